import type { AssistantSpec } from '../assistants/assistant-schema.js';
import type { Call } from '../calls/call-schema.js';
import type { CallEventSink, ToolCallResult } from '../webhooks/call-event-sink.js';
import type { CallContext, EndOfCallReport, EventSpec } from '../webhooks/events/build-event.js';
import type { ConversationMessage } from '../webhooks/events/conversation-schema.js';
import type { ToolCall } from '../webhooks/events/event-schemas.js';

/**
 * Reports one call through the `CallEventSink`, strictly in order: each `record` starts after
 * the previous one finished, with the call's state as it was when the event happened. A tool
 * request waits for the events before it, but later events do not wait for the tool.
 */
export interface CallStateView {
  call: Call;
  assistant: CallContext['assistant'];
  messages: readonly ConversationMessage[];
  phoneProvider: string;
}

export class CallReporter {
  private chain: Promise<void> = Promise.resolve();
  /** Recording failures (the sink could not persist); the call goes on. */
  readonly failures: unknown[] = [];

  constructor(
    private readonly sink: CallEventSink,
    private readonly state: () => CallStateView,
    private readonly onFailure: (error: unknown) => void = () => {},
  ) {}

  snapshot(): CallContext {
    const s = this.state();
    return {
      call: structuredClone(s.call),
      assistant: s.assistant,
      messages: s.messages.slice(),
      phoneProvider: s.phoneProvider,
    };
  }

  record(...events: EventSpec[]): Promise<void> {
    const ctx = this.snapshot();
    this.chain = this.chain.then(async () => {
      try {
        await this.sink.record(ctx, events);
      } catch (error) {
        this.failures.push(error);
        this.onFailure(error);
      }
    });
    return this.chain;
  }

  async requestToolCalls(
    toolCalls: readonly ToolCall[],
    signal: AbortSignal,
  ): Promise<Map<string, ToolCallResult>> {
    const ctx = this.snapshot();
    await this.chain;
    return this.sink.requestToolCalls(ctx, toolCalls, signal);
  }

  /** Resolves when every event recorded so far is durable. */
  flushed(): Promise<void> {
    return this.chain;
  }
}

/**
 * The end-of-call report. Post-call analysis (summary, success evaluation, structured data) is
 * a later issue: it replaces this function.
 */
export async function buildEndOfCallReport(state: {
  call: Call;
  assistant: AssistantSpec;
  messages: readonly ConversationMessage[];
  recordingUrl?: string;
}): Promise<EndOfCallReport> {
  return {
    analysis: {},
    durationSeconds: Math.round(state.call.assistantCallDuration / 1000),
    summary: '',
    endedReason: state.call.phoneCallStatusReason,
    ...(state.recordingUrl ? { recordingUrl: state.recordingUrl } : {}),
  };
}
