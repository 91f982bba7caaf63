import type { ConnectionGuard, ProviderCredentials } from '../../shared/provider-credentials.js';
import { HttpPcmTts, parseJson, shortText, ttsError } from '../http-pcm-stream.js';
import type { TtsOptions } from '../tts.js';

const PROVIDER = 'elevenlabs';

export interface ElevenLabsTtsOptions {
  /** Voice id when a request names none. */
  voice?: string;
  /** `model_id` when a request names none. */
  model?: string;
  /** Stall deadline: the longest wait for the response headers or the next audio chunk (ms). */
  timeoutMs?: number;
  /**
   * Longest text per request (characters); longer text is refused with `text_too_long`.
   * ElevenLabs' own limits are per model (40 000 for Flash/Turbo v2.5, 10 000 for
   * Multilingual v2, 5 000 for v3); the default is the smallest of them.
   */
  maxTextChars?: number;
}

export const defaultElevenLabsTtsOptions = {
  baseUrl: 'https://api.elevenlabs.io',
  /** "George", one of the default voices every account has. */
  voice: 'JBFqnCBsd6RMkjVDRZzb',
  model: 'eleven_flash_v2_5',
  timeoutMs: 10_000,
  maxTextChars: 5000,
} as const satisfies Required<ElevenLabsTtsOptions> & { baseUrl: string };

/** `voice_settings.speed` range ElevenLabs accepts. */
export const elevenLabsSpeedRange = { min: 0.7, max: 1.2 } as const;

export function createElevenLabsTts(options: ProviderCredentials & ElevenLabsTtsOptions): ElevenLabsTts {
  if (!options.apiKey) {
    throw ttsError(PROVIDER, 'unauthorized', 'no ElevenLabs API key configured', false);
  }
  return new ElevenLabsTts(options.apiKey, options);
}

/** `{"detail":{"status","message"}}`, FastAPI's `{"detail":[{"msg"}]}` or `{"detail":"..."}`. */
function errorMessage(_status: number, body: string): string {
  const json = parseJson(body) as { detail?: unknown } | undefined;
  const detail = json?.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => (d as { msg?: unknown })?.msg)
      .filter((m) => typeof m === 'string')
      .join('; ');
  }
  if (detail && typeof detail === 'object') {
    const { status, message } = detail as { status?: unknown; message?: unknown };
    if (typeof message === 'string') return typeof status === 'string' ? `${status}: ${message}` : message;
  }
  return shortText(body) || 'no error detail';
}

export class ElevenLabsTts extends HttpPcmTts<Required<ElevenLabsTtsOptions> & { baseUrl: string }> {
  readonly name = PROVIDER;

  constructor(
    private readonly apiKey: string,
    options: ElevenLabsTtsOptions & { baseUrl?: string; guard?: ConnectionGuard } = {},
  ) {
    super(defaultElevenLabsTtsOptions, options, elevenLabsSpeedRange);
  }

  protected call(
    { text, sampleRate, speed }: { text: string; sampleRate: number; speed: number },
    options: TtsOptions,
  ) {
    const voice = encodeURIComponent(options.voice ?? this.o.voice);
    return {
      url: `${this.o.baseUrl}/v1/text-to-speech/${voice}/stream?output_format=pcm_${sampleRate}`,
      headers: { 'xi-api-key': this.apiKey, accept: 'audio/pcm' },
      body: {
        text,
        model_id: options.model ?? this.o.model,
        ...(speed !== 1 ? { voice_settings: { speed } } : {}),
      },
      sourceRate: sampleRate,
    };
  }

  protected errorMessage = errorMessage;
}
