/**
 * Text-to-speech: one small, streaming-first interface. Audio comes out as chunks of mono
 * PCM16 at the requested sample rate as soon as the provider has them.
 */
import { ProviderError } from '../shared/provider-error.js';

export interface TtsOptions {
  sampleRate: 8000 | 16000;
  voice?: string;
  /** Provider model name (`config.speech.tts.model`); each provider has its default. */
  model?: string;
  /** 1.0 = normal speed. */
  speed?: number;
  /** Called when another provider (a fallback) speaks in place of the configured one. */
  onStandIn?(provider: string): void;
}

/** `options.speed` (default 1), refused outside 0.25 … 4 with a `tts_error`. */
export function checkedSpeed(provider: string, speed = 1): number {
  if (!(speed >= 0.25 && speed <= 4)) {
    throw new ProviderError({
      type: 'tts_error',
      code: 'invalid_speed',
      message: `speed must be within 0.25 … 4, got ${speed}`,
      provider,
      retryable: false,
    });
  }
  return speed;
}

export interface TtsProvider {
  readonly name: string;
  /** Throws `ProviderError` (type `tts_error`) on failure; stops promptly when `signal` aborts. */
  synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array>;
}
