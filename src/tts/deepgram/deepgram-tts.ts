import type { ConnectionGuard, ProviderCredentials } from '../../shared/provider-credentials.js';
import { HttpPcmTts, parseJson, shortText, ttsError } from '../http-pcm-stream.js';
import type { TtsOptions } from '../tts.js';

const PROVIDER = 'deepgram';

export interface DeepgramTtsOptions {
  /** Aura model (= voice) when a request names none. */
  model?: string;
  /** Stall deadline: the longest wait for the response headers or the next audio chunk (ms). */
  timeoutMs?: number;
  /** Longest text per request; Aura accepts 2000 characters. Longer text: `text_too_long`. */
  maxTextChars?: number;
}

export const defaultDeepgramTtsOptions = {
  baseUrl: 'https://api.deepgram.com/v1',
  model: 'aura-2-thalia-en',
  timeoutMs: 10_000,
  maxTextChars: 2000,
} as const satisfies Required<DeepgramTtsOptions> & { baseUrl: string };

/** Aura-2's `speed` query parameter range (1 is sent as no parameter). */
export const deepgramSpeedRange = { min: 0.7, max: 1.5 } as const;

export function createDeepgramTts(options: ProviderCredentials & DeepgramTtsOptions): DeepgramTts {
  if (!options.apiKey) throw ttsError(PROVIDER, 'unauthorized', 'no Deepgram API key configured', false);
  return new DeepgramTts(options.apiKey, options);
}

/** `{"err_code","err_msg","request_id"}` or the newer `{"category","message","details"}`. */
function errorMessage(_status: number, body: string): string {
  const json = parseJson(body) as Record<string, unknown> | undefined;
  const code = json?.err_code ?? json?.category;
  const message = json?.err_msg ?? json?.message;
  if (typeof message === 'string') {
    const details = typeof json?.details === 'string' ? ` (${json.details})` : '';
    return (typeof code === 'string' ? `${code}: ${message}` : message) + details;
  }
  return shortText(body) || 'no error detail';
}

export class DeepgramTts extends HttpPcmTts<Required<DeepgramTtsOptions> & { baseUrl: string }> {
  readonly name = PROVIDER;

  constructor(
    private readonly apiKey: string,
    options: DeepgramTtsOptions & { baseUrl?: string; guard?: ConnectionGuard } = {},
  ) {
    super(defaultDeepgramTtsOptions, options, deepgramSpeedRange);
  }

  protected call(
    { text, sampleRate, speed }: { text: string; sampleRate: number; speed: number },
    options: TtsOptions,
  ) {
    const query = new URLSearchParams({
      model: options.voice ?? options.model ?? this.o.model,
      encoding: 'linear16',
      sample_rate: String(sampleRate),
      container: 'none',
    });
    if (speed !== 1) query.set('speed', String(speed));
    return {
      url: `${this.o.baseUrl}/speak?${query}`,
      headers: { authorization: `Token ${this.apiKey}` },
      body: { text },
      sourceRate: sampleRate,
    };
  }

  protected errorMessage = errorMessage;
}
