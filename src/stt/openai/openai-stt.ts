/**
 * OpenAI speech-to-text (`POST /v1/audio/transcriptions`). The API takes a whole recording, not
 * a live audio stream, so a stream buffers the utterance's PCM and sends it as a WAV file on
 * `flush()` (the engine's endpointing decides when); with a model that supports it
 * (`gpt-4o-transcribe`, `gpt-4o-mini-transcribe`) the reply streams as Server-Sent Events and
 * the text so far becomes `partial`s before the `final`.
 *
 * Defined behaviours: an utterance shorter than `minUtteranceMs` or without a sample above
 * `silenceThreshold` is dropped without a request; an utterance is capped at `maxUtteranceMs`
 * (longer speech is cut there and sent in pieces, so memory and upload size stay bounded);
 * utterances are transcribed one at a time, in order.
 */
import type { ProviderCredentials } from '../../shared/provider-credentials.js';
import type { SttOptions, SttProvider, SttStream } from '../stt.js';
import { OpenAiSttStream } from './openai-stream.js';

export interface OpenAiSttOptions extends ProviderCredentials {
  /** Default model when the stream options name none. */
  model?: string;
  /** A request fails with a retryable `timeout` when no byte arrives for this long (ms). */
  timeoutMs?: number;
  /** Longest utterance sent as one request (ms); longer speech is cut into pieces. */
  maxUtteranceMs?: number;
  /** Shorter utterances are dropped without a request (ms). */
  minUtteranceMs?: number;
  /** Peak amplitude (PCM16) at or under which an utterance counts as silence. */
  silenceThreshold?: number;
  /** Vocabulary/style hint sent with every request (OpenAI's `prompt`). */
  prompt?: string;
  /** Stream the reply as SSE when the model supports it. */
  streamReplies?: boolean;
}

export const defaultOpenAiSttOptions = {
  baseUrl: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini-transcribe',
  timeoutMs: 15_000,
  maxUtteranceMs: 60_000,
  minUtteranceMs: 100,
  silenceThreshold: 100,
  streamReplies: true,
} as const satisfies OpenAiSttOptions;

export type ResolvedOpenAiSttOptions = OpenAiSttOptions & typeof defaultOpenAiSttOptions;

export function createOpenAiStt(options: OpenAiSttOptions = {}): OpenAiStt {
  return new OpenAiStt(options);
}

export class OpenAiStt implements SttProvider {
  readonly name = 'openai';
  private readonly options: ResolvedOpenAiSttOptions;

  constructor(options: OpenAiSttOptions = {}) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...defaultOpenAiSttOptions, ...defined } as ResolvedOpenAiSttOptions;
  }

  stream(options: SttOptions, signal: AbortSignal): SttStream {
    return new OpenAiSttStream(this.options, options, signal);
  }
}

/** Whether the model streams its transcript (`stream=true`); whisper-1 does not. */
export function modelStreams(model: string): boolean {
  return !model.startsWith('whisper');
}

/** OpenAI's `language` is ISO-639-1: 'en-US' → 'en'; anything unrecognisable → auto-detect. */
export function isoLanguage(language: string): string | undefined {
  const m = /^([a-z]{2})(?:[-_][a-z0-9]+)*$/i.exec(language.trim());
  return m?.[1]?.toLowerCase();
}
