import type { ConnectionGuard, ProviderCredentials } from '../../shared/provider-credentials.js';
import { HttpPcmTts, parseJson, shortText, ttsError } from '../http-pcm-stream.js';
import type { TtsOptions } from '../tts.js';

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

export class OpenAiTts extends HttpPcmTts<Required<OpenAiTtsOptions> & { baseUrl: string }> {
  readonly name = PROVIDER;

  constructor(
    private readonly apiKey: string | undefined,
    options: OpenAiTtsOptions & { baseUrl?: string; guard?: ConnectionGuard } = {},
  ) {
    // OpenAI's own speed range is Parley's (0.25 … 4).
    super(defaultOpenAiTtsOptions, options);
  }

  protected call({ text, speed }: { text: string; speed: number }, options: TtsOptions) {
    return {
      url: `${this.o.baseUrl}/audio/speech`,
      headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : ({} as Record<string, string>),
      body: {
        model: options.model ?? this.o.model,
        input: text,
        voice: options.voice ?? this.o.voice,
        response_format: 'pcm',
        speed,
      },
      sourceRate: OPENAI_TTS_PCM_RATE,
    };
  }

  protected errorMessage = errorMessage;
}
