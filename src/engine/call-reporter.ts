/**
 * Reports one call through the `CallEventSink`, strictly in order: each `record` starts after
 * the previous one finished, with the call's state as it was when the event happened. A tool
 * request waits for the events before it, but later events do not wait for the tool. Also the
 * end-of-call report (`endOfCall`): analysis (passed in), cost and statistics.
 */
import type { Static } from '@sinclair/typebox';
import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { Call, CallAnalysisSchema } from '../contract/call-schema.js';
import type { ConversationMessage } from '../contract/conversation-schema.js';
import type { ToolCall } from '../contract/event-schemas.js';
import { callCost } from '../cost/call-cost.js';
import { currentPrices, type PriceTable } from '../cost/prices.js';
import type { UsageLine } from '../cost/usage.js';
import { isTransientDbError } from '../db/transient-error.js';
import type { ChatMessage, LlmProvider } from '../llm/llm.js';
import type { Clock } from '../shared/clock.js';
import { newEventId } from '../shared/ids.js';
import {
  type CallContext,
  type CallEventSink,
  type EndOfCallReport,
  type EventSpec,
  isOwnershipLost,
  type ToolCallResult,
} from './call-event-sink.js';
import { callStatistics } from './call-statistics.js';
import { endedReasonOf } from './ended-reason.js';

export interface CallStateView {
  call: Call;
  assistant: CallContext['assistant'];
  messages: readonly ConversationMessage[];
  phoneProvider: string;
}

export interface CallReporterOptions {
  /** A write failed and will be tried again after `delayMs` (attempt 1 is the first failure). */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  /** The sink refused the call's writes: another process runs it now. Nothing more is recorded. */
  onOwnershipLost?(error: unknown): void;
  /** Back-off between attempts: from `firstMs`, doubling up to `maxMs`. */
  retryDelayMs?: { firstMs: number; maxMs: number };
}

export class CallReporter {
  private chain: Promise<void> = Promise.resolve();
  /** Events that could not be stored for good (not retryable); the call goes on. */
  readonly failures: unknown[] = [];
  private lost = false;
  private wakeRetry: (() => void) | undefined;
  private readonly retryDelayMs: { firstMs: number; maxMs: number };

  constructor(
    private readonly sink: CallEventSink,
    private readonly state: () => CallStateView,
    private readonly onFailure: (error: unknown) => void = () => {},
    private readonly options: CallReporterOptions = {},
  ) {
    this.retryDelayMs = options.retryDelayMs ?? { firstMs: 100, maxMs: 5_000 };
  }

  /** Whether the call was taken over by another process (every later record is dropped). */
  get ownershipLost(): boolean {
    return this.lost;
  }

  snapshot(): CallContext {
    const s = this.state();
    return {
      call: structuredClone(s.call),
      assistant: s.assistant,
      messages: s.messages.slice(),
      phoneProvider: s.phoneProvider,
    };
  }

  /**
   * Queues events; they are written in order, each batch retried with back-off until it is
   * durable (a lost connection, a restart, a cancelled statement). Only an error that cannot
   * succeed on retry is given up (and reported); ownership lost stops recording altogether.
   */
  record(...events: EventSpec[]): Promise<void> {
    const ctx = this.snapshot();
    this.chain = this.chain.then(() => this.durably(ctx, events));
    return this.chain;
  }

  /** This process no longer runs the call: drop what is queued, stop retrying, record nothing more. */
  abandon(): void {
    this.lost = true;
    this.wakeRetry?.();
  }

  private async durably(ctx: CallContext, events: EventSpec[]): Promise<void> {
    let delay = this.retryDelayMs.firstMs;
    // The same ids on every attempt: an attempt that committed unacknowledged is not repeated.
    const eventIds = events.map(() => newEventId());
    for (let attempt = 1; !this.lost; attempt++) {
      try {
        await this.sink.record(ctx, events, { eventIds, retry: attempt > 1 });
        return;
      } catch (error) {
        if (isOwnershipLost(error)) {
          this.lost = true;
          this.options.onOwnershipLost?.(error);
          return;
        }
        if (!isTransientDbError(error)) {
          this.failures.push(error);
          this.onFailure(error);
          return;
        }
        this.options.onRetry?.(error, attempt, delay);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = undefined;
        delay = Math.min(delay * 2, this.retryDelayMs.maxMs);
      }
    }
  }

  async requestToolCalls(
    toolCalls: readonly ToolCall[],
    signal: AbortSignal,
  ): Promise<Map<string, ToolCallResult>> {
    const ctx = this.snapshot();
    await this.chain;
    return this.sink.requestToolCalls(ctx, toolCalls, signal);
  }

  /** Resolves when every event recorded so far is durable (or the call was taken over). */
  flushed(): Promise<void> {
    return this.chain;
  }
}

export type CallAnalysis = Static<typeof CallAnalysisSchema>;

/** What post-call analysis gets (the `analysis/` folder's `analyzeCall` fits it). */
export interface AnalysisInput {
  assistant: AssistantSpec;
  call: Call;
  messages: readonly ConversationMessage[];
  chat?: readonly ChatMessage[];
  /** The LLM for an analysis part's provider and model; throws when this deployment has none. */
  llm?: (provider: string, model: string) => LlmProvider;
  clock?: Clock;
}

/** Post-call analysis, passed in by whoever assembles the engine (`analysis/analysis.ts`). */
export type CallAnalyzer = (input: AnalysisInput) => Promise<CallAnalysis>;

/** What the end-of-call report is built from; everything past `analyze` is optional. */
export interface EndOfCallInput {
  call: Call;
  assistant: AssistantSpec;
  messages: readonly ConversationMessage[];
  analyze: CallAnalyzer;
  recordingUrl?: string;
  /** The model's history with tool results (the scripted provider's variables come from it). */
  chat?: readonly ChatMessage[];
  /** The LLM for an analysis part's provider and model (absent: only offline analysis works). */
  llm?: AnalysisInput['llm'];
  clock?: Clock;
  /** Usage metered during the call; read after analysis, so analysis usage is included. */
  usage?: () => readonly UsageLine[];
  prices?: PriceTable;
  /** Provider names for the latency statistics. */
  providerNames?: { stt?: string; llm?: string; tts?: string };
  /** `phone.provider.name`, for an end reason derived from the status ("" for web calls). */
  phoneProvider?: string;
}

/**
 * After the call: analysis (a failure becomes `analysis.error`), then cost and statistics.
 * Returns the call with `analysis`, `cost`, `metrics` and `endedReason` set, and the report.
 */
export async function endOfCall(input: EndOfCallInput): Promise<{ call: Call; report: EndOfCallReport }> {
  let analysis: CallAnalysis;
  try {
    analysis = await input.analyze({
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
  const endedReason = endedReasonOf(input.call, input.phoneProvider);
  const call: Call = { ...input.call, analysis, cost: { ...cost }, metrics: { ...metrics }, endedReason };
  return {
    call,
    report: {
      analysis,
      durationSeconds: Math.round(call.assistantCallDuration / 1000),
      summary: analysis.summary ?? '',
      endedReason,
      ...(input.recordingUrl ? { recordingUrl: input.recordingUrl } : {}),
    },
  };
}
