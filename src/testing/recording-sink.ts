import type { EventMessage, ToolCall } from '../contract/event-schemas.js';
import type { AssistantRequestReply, CallEventSink, ToolCallResult } from '../webhooks/call-event-sink.js';
import { buildEventMessage, type CallContext, type EventSpec } from '../webhooks/events/build-event.js';

/**
 * An in-memory `CallEventSink` for tests: every event is built exactly as the webhook engine
 * builds it (so it can be validated against the event schemas) and kept in order, per call;
 * tool calls are recorded as `tool-calls` events and answered by a callback.
 */
export type ToolAnswer = (call: ToolCall, ctx: CallContext) => ToolCallResult | Promise<ToolCallResult>;

export class RecordingSink implements CallEventSink {
  readonly events: EventMessage[] = [];
  private readonly sequences = new Map<string, number>();
  private counter = 0;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(
    public answerTool: ToolAnswer = (call) => ({ ok: true, result: { ok: true, tool: call.function.name } }),
    private readonly now: () => number = Date.now,
  ) {}

  private append(ctx: CallContext, spec: EventSpec): EventMessage {
    const sequence = (this.sequences.get(ctx.call.id) ?? 0) + 1;
    this.sequences.set(ctx.call.id, sequence);
    const message = buildEventMessage(ctx, spec, {
      id: `evt_test${++this.counter}`,
      sequence,
      timestamp: Math.round(this.now()),
    });
    this.events.push(message);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test()) return true;
      w.resolve();
      return false;
    });
    return message;
  }

  async record(ctx: CallContext, specs: readonly EventSpec[]): Promise<EventMessage[]> {
    return specs.map((spec) => this.append(ctx, spec));
  }

  async requestToolCalls(
    ctx: CallContext,
    toolCalls: readonly ToolCall[],
    _signal: AbortSignal,
  ): Promise<Map<string, ToolCallResult>> {
    this.append(ctx, { type: 'tool-calls', toolCallList: [...toolCalls] });
    const results = new Map<string, ToolCallResult>();
    for (const call of toolCalls) results.set(call.id, await this.answerTool(call, ctx));
    return results;
  }

  /** The reply assistant-request gets (tests set it). */
  assistantReply: AssistantRequestReply = { kind: 'defaults' };

  async requestAssistant(ctx: CallContext): Promise<AssistantRequestReply> {
    this.append(ctx, { type: 'assistant-request' });
    return this.assistantReply;
  }

  forCall(callId: string): EventMessage[] {
    return this.events.filter((e) => e.call.id === callId);
  }

  /** Event types of one call, in order. */
  types(callId: string): string[] {
    return this.forCall(callId).map((e) => e.type);
  }

  /** Resolves once `test` holds after some event was recorded (or at once). */
  waitFor(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}
