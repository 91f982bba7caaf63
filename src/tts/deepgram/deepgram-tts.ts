/**
 * Deepgram Aura text-to-speech over REST: `POST /v1/speak?model=aura-2-thalia-en&encoding=linear16
 * &sample_rate=16000&container=none` with `Authorization: Token <key>` and `{"text"}`. The reply
 * is raw PCM16 at the requested rate (8 and 16 kHz are native), streamed as it is generated.
 *
 * Aura names voice and model together (`aura-2-<voice>-<language>`), so `options.voice` and
 * `options.model` both take a full Aura model name; `voice` wins when both are given.
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

export class DeepgramTts implements TtsProvider {
  readonly name = PROVIDER;
  /** The SSRF-guarded Agent when the base URL is a team's; undici's global one otherwise. */
  private readonly dispatcher: Dispatcher | undefined;
  private readonly o: Required<DeepgramTtsOptions> & { baseUrl: string };

  constructor(
    private readonly apiKey: string,
    options: DeepgramTtsOptions & { baseUrl?: string; guard?: ConnectionGuard } = {},
  ) {
    this.dispatcher = guardedDispatcher(options.guard);
    this.o = resolvedOptions(defaultDeepgramTtsOptions, options);
  }

  async *synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array> {
    signal.throwIfAborted();
    const checked = checkedTtsRequest(PROVIDER, text, options, {
      maxTextChars: this.o.maxTextChars,
      speedRange: deepgramSpeedRange,
    });
    if (!checked) return;
    const { input, sampleRate, speed } = checked;
    const query = new URLSearchParams({
      model: options.voice ?? options.model ?? this.o.model,
      encoding: 'linear16',
      sample_rate: String(sampleRate),
      container: 'none',
    });
    if (speed !== 1) query.set('speed', String(speed));
    yield* streamPcmOverHttp({
      provider: PROVIDER,
      url: `${this.o.baseUrl}/speak?${query}`,
      headers: { authorization: `Token ${this.apiKey}` },
      body: { text: input },
      sourceRate: sampleRate,
      sampleRate: sampleRate,
      timeoutMs: this.o.timeoutMs,
      signal,
      errorMessage,
      dispatcher: this.dispatcher,
    });
  }
}
