/**
 * Text-to-speech: one small, streaming-first interface. Audio comes out as chunks of mono
 * PCM16 at the requested sample rate as soon as the provider has them.
 */
export interface TtsOptions {
  sampleRate: 8000 | 16000;
  voice?: string;
  /** 1.0 = normal speed. */
  speed?: number;
}

export interface TtsProvider {
  readonly name: string;
  /** Throws `ProviderError` (type `tts_error`) on failure; stops promptly when `signal` aborts. */
  synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array>;
}
