import { type AnalysisContext, analyzeCall, type CallAnalysis } from '../analysis/analysis.js';
import type { AssistantSpec } from '../assistants/assistant-schema.js';
import type { Call } from '../calls/call-schema.js';
import { callCost } from '../cost/call-cost.js';
import { currentPrices, type PriceTable } from '../cost/prices.js';
import type { UsageLine } from '../cost/usage.js';
import type { ChatMessage } from '../llm/llm.js';
import type { CallEventSink, ToolCallResult } from '../webhooks/call-event-sink.js';
import type { CallContext, EndOfCallReport, EventSpec } from '../webhooks/events/build-event.js';
import type { ConversationMessage } from '../webhooks/events/conversation-schema.js';
import type { ToolCall } from '../webhooks/events/event-schemas.js';
import { callStatistics } from './call-statistics.js';
import type { Clock } from './clock.js';

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

/** What the end-of-call report is built from; everything past `messages` is optional. */
export interface EndOfCallInput {
  call: Call;
  assistant: AssistantSpec;
  messages: readonly ConversationMessage[];
  recordingUrl?: string;
  /** The model's history with tool results (the scripted provider's variables come from it). */
  chat?: readonly ChatMessage[];
  /** The LLM for an analysis part's provider and model (absent: only offline analysis works). */
  llm?: AnalysisContext['llm'];
  clock?: Clock;
  /** Usage metered during the call; read after analysis, so analysis usage is included. */
  usage?: () => readonly UsageLine[];
  prices?: PriceTable;
  /** Provider names for the latency statistics. */
  providerNames?: { stt?: string; llm?: string; tts?: string };
}

/**
 * After the call: analysis (never throws; failures are in `analysis.error`), then cost and
 * statistics. Returns the call with `analysis`, `cost` and `metrics` set, and the report.
 */
export async function endOfCall(input: EndOfCallInput): Promise<{ call: Call; report: EndOfCallReport }> {
  let analysis: CallAnalysis;
  try {
    analysis = await analyzeCall({
      assistant: input.assistant,
      call: input.call,
      messages: input.messages,
      ...(input.chat ? { chat: input.chat } : {}),
      ...(input.llm ? { llm: input.llm } : {}),
      ...(input.clock ? { clock: input.clock } : {}),
    });
  } catch (error) {
    analysis = { error: `analysis failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  const cost = callCost(input.usage?.() ?? [], input.prices ?? currentPrices());
  const metrics = callStatistics(input.messages, input.providerNames);
  const call: Call = { ...input.call, analysis, cost: { ...cost }, metrics: { ...metrics } };
  return {
    call,
    report: {
      analysis,
      durationSeconds: Math.round(call.assistantCallDuration / 1000),
      summary: analysis.summary ?? '',
      endedReason: call.phoneCallStatusReason,
      ...(input.recordingUrl ? { recordingUrl: input.recordingUrl } : {}),
    },
  };
}

/** The end-of-call report alone (see `endOfCall`, which also gives the updated call). */
export async function buildEndOfCallReport(input: EndOfCallInput): Promise<EndOfCallReport> {
  return (await endOfCall(input)).report;
}
