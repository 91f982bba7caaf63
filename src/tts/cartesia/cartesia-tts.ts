import type { ConnectionGuard, ProviderCredentials } from '../../shared/provider-credentials.js';
import { HttpPcmTts, parseJson, shortText, ttsError } from '../http-pcm-stream.js';
import type { TtsOptions } from '../tts.js';

const PROVIDER = 'cartesia';

export interface CartesiaTtsOptions {
  /** Voice id when a request names none. */
  voice?: string;
  /** `model_id` when a request names none. */
  model?: string;
  /** `Cartesia-Version` header. */
  apiVersion?: string;
  /** Language of the transcript. */
  language?: string;
  /** Stall deadline: the longest wait for the response headers or the next audio chunk (ms). */
  timeoutMs?: number;
  /** Longest text per request (Parley's own cap; the engine sends a sentence at a time). */
  maxTextChars?: number;
}

export const defaultCartesiaTtsOptions = {
  baseUrl: 'https://api.cartesia.ai',
  /** The voice of Cartesia's getting-started examples. */
  voice: '694f9389-aac1-45b6-b726-9d9369183238',
  model: 'sonic-2',
  apiVersion: '2025-04-16',
  language: 'en',
  timeoutMs: 10_000,
  maxTextChars: 5000,
} as const satisfies Required<CartesiaTtsOptions> & { baseUrl: string };

export const cartesiaSpeedRange = { min: 0.6, max: 1.5 } as const;

export function createCartesiaTts(options: ProviderCredentials & CartesiaTtsOptions): CartesiaTts {
  if (!options.apiKey) throw ttsError(PROVIDER, 'unauthorized', 'no Cartesia API key configured', false);
  return new CartesiaTts(options.apiKey, options);
}

/** `{"error_code","title","message"}` (API 2026-03-01 and later) or plain `Title: Message` text. */
function errorMessage(_status: number, body: string): string {
  const json = parseJson(body) as { error_code?: unknown; title?: unknown; message?: unknown } | undefined;
  if (typeof json?.message === 'string') {
    const code = typeof json.error_code === 'string' ? `${json.error_code}: ` : '';
    const title = typeof json.title === 'string' ? `${json.title}: ` : '';
    return `${code}${title}${json.message}`;
  }
  return shortText(body) || 'no error detail';
}

function speedFields(model: string, speed: number): Record<string, unknown> {
  if (speed === 1) return {};
  if (model.startsWith('sonic-3')) return { generation_config: { speed } };
  const control = Math.max(-1, Math.min(1, (speed - 1) * 2));
  return { __experimental_controls: { speed: Math.round(control * 100) / 100 } };
}

export class CartesiaTts extends HttpPcmTts<Required<CartesiaTtsOptions> & { baseUrl: string }> {
  readonly name = PROVIDER;

  constructor(
    private readonly apiKey: string,
    options: CartesiaTtsOptions & { baseUrl?: string; guard?: ConnectionGuard } = {},
  ) {
    super(defaultCartesiaTtsOptions, options, cartesiaSpeedRange);
  }

  protected call(
    { text, sampleRate, speed }: { text: string; sampleRate: number; speed: number },
    options: TtsOptions,
  ) {
    const model = options.model ?? this.o.model;
    const { __experimental_controls, ...generation } = speedFields(model, speed);
    return {
      url: `${this.o.baseUrl}/tts/bytes`,
      headers: { 'x-api-key': this.apiKey, 'cartesia-version': this.o.apiVersion },
      body: {
        model_id: model,
        transcript: text,
        voice: {
          mode: 'id',
          id: options.voice ?? this.o.voice,
          ...(__experimental_controls ? { __experimental_controls } : {}),
        },
        output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: sampleRate },
        language: this.o.language,
        ...generation,
      },
      sourceRate: sampleRate,
    };
  }

  protected errorMessage = errorMessage;
}
