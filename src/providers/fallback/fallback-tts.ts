import type { TtsOptions, TtsProvider } from '../../tts/tts.js';
import { canFallBack, type ReportError, switchedError } from './fallback-error.js';

/**
 * The primary TTS until it fails retryably, then the fallback (with its own voice and model)
 * for the rest of the call. A sentence that failed before any audio is spoken again by the
 * fallback; one that failed midway stops where it broke (replaying it whole would repeat what
 * the caller already heard). Audio the fallback makes is announced (`onStandIn`), so it is never
 * cached as the primary's voice.
 */
export class FallbackTts implements TtsProvider {
  private failedOver = false;

  constructor(
    private readonly primary: TtsProvider,
    private readonly fallback: TtsProvider,
    private readonly fallbackOptions: Pick<TtsOptions, 'voice' | 'model'>,
    private readonly report: ReportError,
  ) {}

  get name(): string {
    return this.failedOver ? this.fallback.name : this.primary.name;
  }

  async *synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array> {
    if (!this.failedOver) {
      let produced = false;
      try {
        for await (const chunk of this.primary.synthesize(text, options, signal)) {
          produced = true;
          yield chunk;
        }
        return;
      } catch (error) {
        if (signal.aborted || !canFallBack(error)) throw error;
        this.failedOver = true;
        this.report(switchedError(error, `continuing with fallback provider ${this.fallback.name}`));
        if (produced) return;
      }
    }
    const { voice: _voice, model: _model, ...rest } = options;
    options.onStandIn?.(this.fallback.name);
    yield* this.fallback.synthesize(text, { ...rest, ...this.fallbackOptions }, signal);
  }
}
