/**
 * What the engine needs from whoever keeps and delivers a call's events (the webhook outbox
 * implements it in `webhooks/`): the event specs, the call state they are built from, and the
 * sink interface. The engine imports nothing from `webhooks/`; `webhooks/` builds on this.
 */
import type { Static } from '@sinclair/typebox';
import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { Call, CallAnalysisSchema } from '../contract/call-schema.js';
import type { ConversationMessage } from '../contract/conversation-schema.js';
import type { EventErrorSchema, EventMessage, ToolCall } from '../contract/event-schemas.js';

/** What an event is built from: a call's state at the moment the event happened. */
export interface CallContext {
  call: Call;
  /** The resolved assistant, unredacted (routing and signing need its secrets). */
  assistant: AssistantSpec & { _id: string; createdAt?: string; updatedAt?: string };
  messages: readonly ConversationMessage[];
  /** Telephony provider name; "" for web calls. */
  phoneProvider: string;
}

export type EventError = Static<typeof EventErrorSchema>;

export interface EndOfCallReport {
  analysis: Static<typeof CallAnalysisSchema>;
  durationSeconds: number;
  summary: string;
  /** Machine-readable (`customer-ended-call`, `assistant-forwarded-call` …; see `EndedReason`). */
  endedReason: string;
  recordingUrl?: string;
}

/** The event-specific part of an event; the envelope comes from the call's state. */
export type EventSpec =
  | { type: 'status-update' }
  | { type: 'conversation-update' }
  | { type: 'hang' }
  | { type: 'error'; error: EventError }
  | { type: 'end-of-call-report'; report: EndOfCallReport }
  | { type: 'tool-calls'; toolCallList: ToolCall[] }
  | { type: 'assistant-request' };

/** A tool's outcome as the model is told it. */
export type ToolCallResult = { ok: true; result: unknown } | { ok: false; error: string };

/** A write that is retried keeps its event ids, so that a retry never stores an event twice. */
export interface RecordOptions {
  /** The events' ids (one per event), the same on every attempt. */
  eventIds?: readonly string[];
  /**
   * A retry: an earlier attempt with these ids failed, perhaps after its commit (a connection
   * lost during COMMIT). When its events are stored already, nothing is written again.
   */
  retry?: boolean;
}

/**
 * How the call engine reports a call. The engine owns the call's state; the sink persists it
 * and its events together and delivers them.
 */
export interface CallEventSink {
  /**
   * Persists `ctx.call` (the new state) and appends these events to the call's event log in
   * one transaction (stable ids, next sequence numbers), then starts their delivery at once.
   * Notifications are delivered at least once; the promise resolves once they are durable.
   * Throws `CallOwnershipLost` when this process no longer runs the call.
   */
  record(ctx: CallContext, events: readonly EventSpec[], options?: RecordOptions): Promise<EventMessage[]>;

  /**
   * Records a `tool-calls` event and sends it to each tool's own server (or the assistant's),
   * waiting at most 10 s (less where the tool says so). Never throws: timeouts, refusals and
   * unusable replies become `{ok: false, error}` for the model. Every requested id has an entry.
   */
  requestToolCalls(
    ctx: CallContext,
    toolCalls: readonly ToolCall[],
    signal: AbortSignal,
  ): Promise<Map<string, ToolCallResult>>;
}

/**
 * A call's state and events were not written because this process no longer runs the call:
 * another process took it over (its owner stalled past the recovery window) or it already ended
 * for good. Nothing was stored; the session that tried must stop without recording more.
 */
export class CallOwnershipLost extends Error {
  override readonly name = 'CallOwnershipLost';
  constructor(readonly callIds: readonly string[]) {
    super(`this process no longer runs call ${callIds.join(', ')}: another process took it over`);
  }
}

export const isOwnershipLost = (error: unknown): error is CallOwnershipLost =>
  error instanceof CallOwnershipLost;
