/**
 * Speech-to-text: one small, streaming-first interface. Audio goes in synchronously, frame by
 * frame (no per-frame promises); transcripts come out as an async iterable of events.
 */
import type { ProviderError } from '../shared/provider-error.js';

export interface SttOptions {
  sampleRate: 8000 | 16000;
  language: string;
  /** Provider model name (`config.speech.stt.model`); each provider has its default. */
  model?: string;
  /** Replies the dialog expects next; a provider that supports grammars may restrict to them. */
  expectedPhrases?: readonly string[];
}

export type SttEvent =
  | { type: 'partial'; text: string }
  | {
      type: 'final';
      text: string;
      /** 0.0 … 1.0; omitted when the provider gives none. */
      confidence?: number;
      /** Offsets of the utterance within the audio pushed to this stream, in ms. */
      startOffsetMs: number;
      endOffsetMs: number;
      /** Wall-clock time (epoch ms) the final result was produced. */
      timestampMs: number;
    }
  | { type: 'error'; error: ProviderError };

export interface SttStream extends AsyncIterable<SttEvent> {
  /** Push one frame of mono PCM16 at `options.sampleRate`. Never blocks. */
  push(frame: Int16Array): void;
  /** Tell the provider the current utterance ended (endpointing decided it). */
  flush(): void;
  /** Change the expected phrases for the next utterance (grammar), where supported. */
  setExpectedPhrases?(phrases: readonly string[] | undefined): void;
  /** Stop and release resources; the async iterator ends. */
  close(): Promise<void>;
}

export interface SttProvider {
  readonly name: string;
  stream(options: SttOptions, signal: AbortSignal): SttStream;
}
