/**
 * OpenAI text-to-speech: `POST /v1/audio/speech` with `response_format: "pcm"`, which streams
 * raw PCM16 mono at 24 kHz as it is generated. The 24 kHz audio is resampled to the requested
 * 8 or 16 kHz chunk by chunk (`LinearResampler` keeps its filter state across chunks, so the
 * result is the same as resampling the whole response at once).
 */
import type { Dispatcher } from 'undici';
import {
  type ConnectionGuard,
  guardedDispatcher,
  type ProviderCredentials,
} from '../../providers/credentials.js';
import {
  checkedTtsRequest,
  parseJson,
  resolvedOptions,
  shortText,
  streamPcmOverHttp,
  ttsError,
} from '../http-pcm-stream.js';
import type { TtsOptions, TtsProvider } from '../tts.js';

const PROVIDER = 'openai';

/** The rate of OpenAI's `pcm` response format. */
export const OPENAI_TTS_PCM_RATE = 24_000;

export interface OpenAiTtsOptions {
  /** Voice when a request names none (alloy, ash, ballad, coral, echo, fable, nova, onyx, sage, shimmer, verse…). */
  voice?: string;
  /** Model when a request names none. */
  model?: string;
  /** Stall deadline: the longest wait for the response headers or the next audio chunk (ms). */
  timeoutMs?: number;
  /** Longest text per request; OpenAI's limit is 4096 characters. Longer text: `text_too_long`. */
  maxTextChars?: number;
}

export const defaultOpenAiTtsOptions = {
  baseUrl: 'https://api.openai.com/v1',
  voice: 'alloy',
  model: 'gpt-4o-mini-tts',
  timeoutMs: 10_000,
  maxTextChars: 4096,
} as const satisfies Required<OpenAiTtsOptions> & { baseUrl: string };

/**
 * Without an API key only a self-hosted OpenAI-compatible server (`baseUrl`) can be used; the
 * request then goes without an `Authorization` header.
 */
export function createOpenAiTts(options: ProviderCredentials & OpenAiTtsOptions): OpenAiTts {
  if (!options.apiKey && !options.baseUrl) {
    throw ttsError(PROVIDER, 'unauthorized', 'no OpenAI API key configured', false);
  }
  return new OpenAiTts(options.apiKey, options);
}

/** `{"error":{"message","type","param","code"}}`. */
function errorMessage(_status: number, body: string): string {
  const json = parseJson(body) as { error?: { message?: unknown; code?: unknown } } | undefined;
  const message = json?.error?.message;
  if (typeof message === 'string') {
    const code = json?.error?.code;
    return typeof code === 'string' ? `${code}: ${message}` : message;
  }
  return shortText(body) || 'no error detail';
}

export class OpenAiTts implements TtsProvider {
  readonly name = PROVIDER;
  /** The SSRF-guarded Agent when the base URL is a team's; undici's global one otherwise. */
  private readonly dispatcher: Dispatcher | undefined;
  private readonly o: Required<OpenAiTtsOptions> & { baseUrl: string };

  constructor(
    private readonly apiKey: string | undefined,
    options: OpenAiTtsOptions & { baseUrl?: string; guard?: ConnectionGuard } = {},
  ) {
    this.dispatcher = guardedDispatcher(options.guard);
    this.o = resolvedOptions(defaultOpenAiTtsOptions, options);
  }

  async *synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array> {
    signal.throwIfAborted();
    const checked = checkedTtsRequest(PROVIDER, text, options, { maxTextChars: this.o.maxTextChars });
    if (!checked) return;
    const { input, sampleRate, speed } = checked;
    yield* streamPcmOverHttp({
      provider: PROVIDER,
      url: `${this.o.baseUrl}/audio/speech`,
      headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
      body: {
        model: options.model ?? this.o.model,
        input,
        voice: options.voice ?? this.o.voice,
        response_format: 'pcm',
        speed,
      },
      sourceRate: OPENAI_TTS_PCM_RATE,
      sampleRate: sampleRate,
      timeoutMs: this.o.timeoutMs,
      signal,
      errorMessage,
      dispatcher: this.dispatcher,
    });
  }
}
