import { redactSpec } from '../../assistants/assistant-defaults.js';
import type { ConversationMessage } from '../../contract/conversation-schema.js';
import type { EventMessage } from '../../contract/event-schemas.js';
import type { CallContext, EventSpec } from '../../engine/call-event-sink.js';

// The engine defines what an event is built from; this file turns it into the contract's message.
export type { CallContext, EndOfCallReport, EventError, EventSpec } from '../../engine/call-event-sink.js';

const redactedCache = new WeakMap<CallContext['assistant'], ReturnType<typeof redact>>();
function redact(assistant: CallContext['assistant']) {
  const { createdAt, updatedAt, ...rest } = assistant;
  return { ...redactSpec(rest), ...(createdAt ? { createdAt } : {}), ...(updatedAt ? { updatedAt } : {}) };
}
/** A call keeps one assistant object: it is redacted once, not for every event. */
function redactedAssistant(assistant: CallContext['assistant']) {
  let redacted = redactedCache.get(assistant);
  if (!redacted) {
    redacted = redact(assistant);
    redactedCache.set(assistant, redacted);
  }
  return redacted;
}

/**
 * Builds the `message` of one event, from a context the caller will not mutate afterwards (the
 * outbox hands it a snapshot); the message shares its objects and is serialised right away.
 * The default format.
 */
export function buildEventMessage(
  ctx: CallContext,
  spec: EventSpec,
  meta: { id: string; sequence: number; timestamp: number },
): EventMessage {
  const assistant = redactedAssistant(ctx.assistant);
  const envelope = {
    timestamp: meta.timestamp,
    id: meta.id,
    sequence: meta.sequence,
    call: ctx.call,
    assistant,
    phone: { provider: { name: ctx.phoneProvider } },
    customer: { number: ctx.call.userNumber },
  };
  const messages = () => ctx.messages as ConversationMessage[];
  switch (spec.type) {
    case 'status-update':
    case 'assistant-request':
      return { type: spec.type, ...envelope };
    case 'conversation-update':
    case 'hang':
      return { type: spec.type, ...envelope, messages: messages() };
    case 'error':
      return { type: 'error', ...envelope, messages: messages(), error: spec.error };
    case 'tool-calls':
      return { type: 'tool-calls', ...envelope, toolCallList: spec.toolCallList };
    case 'end-of-call-report':
      return {
        type: 'end-of-call-report',
        ...envelope,
        messages: messages(),
        analysis: spec.report.analysis,
        durationSeconds: spec.report.durationSeconds,
        summary: spec.report.summary,
        endedReason: spec.report.endedReason,
        ...(spec.report.recordingUrl ? { recordingUrl: spec.report.recordingUrl } : {}),
      };
  }
}
