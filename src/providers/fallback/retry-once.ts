/**
 * For an assistant without a fallback: a request that fails retryably (5xx, 429, a dropped
 * connection, a stall) before producing anything is sent once more to the same provider, and
 * an `error` event says so. Once output has started a failure surfaces as it is: asking again
 * would repeat what the caller already heard.
 */
import type { LlmChunk, LlmProvider, LlmRequest } from '../../llm/llm.js';
import type { TtsOptions, TtsProvider } from '../../tts/tts.js';
import { canFallBack, type ReportError, switchedError } from './fallback-error.js';

async function* once<T>(
  attempt: () => AsyncIterable<T>,
  signal: AbortSignal,
  report: ReportError,
): AsyncIterable<T> {
  let produced = false;
  try {
    for await (const item of attempt()) {
      produced = true;
      yield item;
    }
    return;
  } catch (error) {
    if (produced || signal.aborted || !canFallBack(error)) throw error;
    report(switchedError(error, 'retried once'));
  }
  yield* attempt();
}

export class RetryOnceLlm implements LlmProvider {
  constructor(
    private readonly llm: LlmProvider,
    private readonly report: ReportError,
  ) {}

  get name(): string {
    return this.llm.name;
  }

  chat(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmChunk> {
    return once(() => this.llm.chat(request, signal), signal, this.report);
  }
}

export class RetryOnceTts implements TtsProvider {
  constructor(
    private readonly tts: TtsProvider,
    private readonly report: ReportError,
  ) {}

  get name(): string {
    return this.tts.name;
  }

  synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array> {
    return once(() => this.tts.synthesize(text, options, signal), signal, this.report);
  }
}
