import type { LlmChunk, LlmProvider, LlmRequest } from '../../llm/llm.js';
import { canFallBack, type ReportError, switchedError } from './fallback-error.js';

/**
 * The primary LLM until it fails retryably (5xx, 429, timeout, lost connection), then the
 * fallback for this request and the rest of the call: one failing turn does not cost every
 * later turn a timeout. A failure after some text was streamed re-asks the fallback for the
 * whole reply (what was already spoken stays spoken; providers cannot continue each other's
 * text). Non-retryable failures (bad key, bad request) are not masked: they surface as they are.
 */
export class FallbackLlm implements LlmProvider {
  private failedOver = false;

  constructor(
    private readonly primary: LlmProvider,
    private readonly fallback: LlmProvider,
    private readonly fallbackModel: string,
    private readonly report: ReportError,
    /** The fallback's name in the assistant (`assistantFallback.provider`), used for billing. */
    private readonly fallbackName: string = fallback.name,
  ) {}

  get name(): string {
    return this.failedOver ? this.fallback.name : this.primary.name;
  }

  async *chat(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmChunk> {
    if (!this.failedOver) {
      try {
        for await (const chunk of this.primary.chat(request, signal)) yield chunk;
        return;
      } catch (error) {
        if (signal.aborted || !canFallBack(error)) throw error;
        this.failedOver = true;
        this.report(switchedError(error, `continuing with fallback provider ${this.fallback.name}`));
      }
    }
    for await (const chunk of this.fallback.chat({ ...request, model: this.fallbackModel }, signal)) {
      // Tokens are billed to the provider and model that produced them.
      yield chunk.type === 'usage'
        ? { ...chunk, provider: this.fallbackName, model: this.fallbackModel }
        : chunk;
    }
  }
}
