/**
 * Shared by the cloud TTS adapters (ElevenLabs, OpenAI, Deepgram Aura, Cartesia): one HTTP
 * POST whose response body is raw PCM16 little-endian mono, yielded as `Int16Array` chunks as
 * the bytes arrive (resampled when the provider's rate is not the requested one).
 *
 * - undici `request` streams the body as a Node stream; its `headersTimeout` / `bodyTimeout`
 *   are the stall deadline (nothing for `timeoutMs` before the headers, or between two body
 *   chunks) and become a retryable `timeout`.
 * - The caller's `AbortSignal` cancels the request and the socket; an abort ends the stream
 *   with the signal's reason (an `AbortError`), never with a `ProviderError`.
 * - HTTP errors map onto `ProviderError` (`tts_error`) the same way for every provider; each
 *   adapter only says how to read its own error body.
 * - `dispatcher` (the SSRF-guarded Agent when the base URL is a team's) carries the connection;
 *   a refused destination is a non-retryable `ssrf_refused`.
 *
 * (Lives in the ElevenLabs folder for now; it belongs in `src/tts/` next to `wav-process.ts`.)
 */
import { endianness } from 'node:os';
import { type Dispatcher, errors, request } from 'undici';
import { LinearResampler } from '../audio/resampler.js';
import { type ConnectionGuard, guardedDispatcher, ssrfRefusal } from '../shared/provider-credentials.js';
import { ProviderError } from '../shared/provider-error.js';
import { checkedSpeed, type TtsOptions, type TtsProvider } from './tts.js';

if (endianness() !== 'LE') throw new Error('tts/http-pcm-stream: little-endian host required');

export function ttsError(
  provider: string,
  code: string,
  message: string,
  retryable: boolean,
  cause?: unknown,
): ProviderError {
  return new ProviderError({ type: 'tts_error', code, message, provider, retryable, cause });
}

/**
 * The text to send, or `undefined` when there is nothing to say (empty or whitespace only:
 * no request). Text longer than `maxChars` characters (code points, as providers count them)
 * is refused before any request with a non-retryable `text_too_long`: the engine sends one
 * sentence at a time, so this only catches misuse, and splitting would change the prosody.
 */
export function checkedText(provider: string, text: string, maxChars: number): string | undefined {
  if (text.trim().length === 0) return undefined;
  if (text.length > maxChars) {
    const chars = [...text].length;
    if (chars > maxChars) {
      throw ttsError(
        provider,
        'text_too_long',
        `text is ${chars} characters; ${provider} accepts at most ${maxChars} per request`,
        false,
      );
    }
  }
  return text;
}

/** `TtsOptions.sampleRate` checked at run time (it comes from call configuration). */
export function checkedSampleRate(provider: string, sampleRate: number): 8000 | 16000 {
  if (sampleRate !== 8000 && sampleRate !== 16000) {
    throw ttsError(
      provider,
      'invalid_sample_rate',
      `sample rate must be 8000 or 16000, got ${sampleRate}`,
      false,
    );
  }
  return sampleRate;
}

/** Refuses a speed outside what the provider itself accepts (already within `checkedSpeed`). */
export function checkedProviderSpeed(provider: string, speed: number, min: number, max: number): number {
  if (speed < min || speed > max) {
    throw ttsError(
      provider,
      'invalid_speed',
      `${provider} accepts speed ${min} … ${max}, got ${speed}`,
      false,
    );
  }
  return speed;
}

/** An adapter's settings: each option given, else its default; the base URL without a trailing `/`. */
export function resolvedOptions<T extends { baseUrl: string }>(
  defaults: NoInfer<T>,
  given: Partial<NoInfer<T>>,
): T {
  const out = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof T)[]) {
    const value = given[key];
    if (value !== undefined) out[key] = value as T[keyof T];
  }
  out.baseUrl = out.baseUrl.replace(/\/+$/, '');
  return out;
}

/**
 * Everything a cloud TTS checks before a request: the sample rate, the speed (Parley's range,
 * then the provider's own), and the text (trimmed; `undefined` when there is nothing to say,
 * `text_too_long` past the provider's limit).
 */
export function checkedTtsRequest(
  provider: string,
  text: string,
  options: TtsOptions,
  limits: { maxTextChars: number; speedRange?: { min: number; max: number } },
): { input: string; sampleRate: 8000 | 16000; speed: number } | undefined {
  const sampleRate = checkedSampleRate(provider, options.sampleRate);
  let speed = checkedSpeed(provider, options.speed);
  if (limits.speedRange)
    speed = checkedProviderSpeed(provider, speed, limits.speedRange.min, limits.speedRange.max);
  const input = checkedText(provider, text, limits.maxTextChars);
  return input === undefined ? undefined : { input, sampleRate, speed };
}

/**
 * Turns a byte stream into whole PCM16 samples: an odd byte at the end of a chunk is kept and
 * joined with the first byte of the next one, so no half sample is ever emitted and the
 * samples after a split never shift by a byte. Each result is a new array the caller may keep.
 */
export class Pcm16Splitter {
  private carry = -1;

  push(chunk: Uint8Array): Int16Array {
    const hasCarry = this.carry >= 0;
    const count = (chunk.length + (hasCarry ? 1 : 0)) >> 1;
    const out = new Int16Array(count);
    if (count === 0) {
      if (chunk.length === 1) this.carry = chunk[0] ?? 0;
      return out;
    }
    const bytes = new Uint8Array(out.buffer);
    let src = 0;
    let dst = 0;
    if (hasCarry) {
      bytes[0] = this.carry;
      bytes[1] = chunk[0] ?? 0;
      src = 1;
      dst = 2;
    }
    const whole = count * 2 - dst;
    bytes.set(chunk.subarray(src, src + whole), dst);
    src += whole;
    this.carry = src < chunk.length ? (chunk[src] ?? 0) : -1;
    return out;
  }

  /** A byte is waiting for its other half (at the end of a response: a truncated sample). */
  get pending(): boolean {
    return this.carry >= 0;
  }
}

export interface PcmHttpRequest {
  provider: string;
  url: string;
  headers: Record<string, string>;
  /** JSON request body. */
  body: unknown;
  /** The rate of the PCM in the response body. */
  sourceRate: number;
  /** The rate the caller asked for (resampled from `sourceRate` when different). */
  sampleRate: number;
  /** Stall deadline: the longest wait for the headers or for the next body chunk (ms). */
  timeoutMs: number;
  signal: AbortSignal;
  /** A readable message from the provider's error body (JSON of its own shape, or text). */
  errorMessage(status: number, body: string): string;
  /** The connection's dispatcher (see `guardedDispatcher`); undici's global one when unset. */
  dispatcher?: Dispatcher | undefined;
}

const ERROR_BODY_LIMIT = 16 * 1024;

/** Seconds (or an HTTP date) in `Retry-After`, as milliseconds; undefined when absent/invalid. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function httpError(provider: string, status: number, message: string, retryAfter?: number): ProviderError {
  const text = `HTTP ${status}: ${message}`;
  if (status === 401 || status === 403) return ttsError(provider, 'unauthorized', text, false);
  if (status === 429) {
    const after = retryAfter === undefined ? '' : ` (retry after ${Math.ceil(retryAfter / 1000)} s)`;
    return ttsError(provider, 'rate_limited', text + after, true);
  }
  if (status === 408) return ttsError(provider, 'timeout', text, true);
  if (status >= 500) return ttsError(provider, 'server_error', text, true);
  return ttsError(provider, 'invalid_request', text, false);
}

function isTimeout(error: unknown): boolean {
  return error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readErrorBody(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= ERROR_BODY_LIMIT) break;
    }
  } catch {
    // The status says enough; a body cut short only loses detail.
  } finally {
    body.destroy();
  }
  return Buffer.concat(parts).subarray(0, ERROR_BODY_LIMIT).toString('utf8');
}

/** Posts `r.body` and yields the PCM response as it arrives. */
export async function* streamPcmOverHttp(r: PcmHttpRequest): AsyncGenerator<Int16Array> {
  r.signal.throwIfAborted();
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(r.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...r.headers },
      body: JSON.stringify(r.body),
      signal: r.signal,
      headersTimeout: r.timeoutMs,
      bodyTimeout: r.timeoutMs,
      ...(r.dispatcher ? { dispatcher: r.dispatcher } : {}),
    });
  } catch (error) {
    r.signal.throwIfAborted();
    const refused = ssrfRefusal(error, 'tts_error', r.provider);
    if (refused) throw refused;
    if (isTimeout(error)) {
      throw ttsError(r.provider, 'timeout', `no response within ${r.timeoutMs} ms`, true, error);
    }
    throw ttsError(r.provider, 'connection_failed', `request failed: ${errorText(error)}`, true, error);
  }
  const { statusCode, headers, body } = response;
  if (statusCode < 200 || statusCode >= 300) {
    const text = await readErrorBody(body);
    r.signal.throwIfAborted();
    throw httpError(
      r.provider,
      statusCode,
      r.errorMessage(statusCode, text),
      retryAfterMs(headers['retry-after']),
    );
  }
  const splitter = new Pcm16Splitter();
  const resampler =
    r.sourceRate === r.sampleRate ? undefined : new LinearResampler(r.sourceRate, r.sampleRate);
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const samples = splitter.push(chunk);
      if (samples.length === 0) continue;
      const out = resampler ? resampler.process(samples).slice() : samples;
      if (out.length > 0) yield out;
    }
  } catch (error) {
    r.signal.throwIfAborted();
    if (isTimeout(error)) {
      throw ttsError(r.provider, 'timeout', `audio stalled for ${r.timeoutMs} ms`, true, error);
    }
    throw ttsError(r.provider, 'connection_lost', `audio stream broke: ${errorText(error)}`, true, error);
  } finally {
    // Ends the request (and frees the socket) when the consumer stops early.
    body.destroy();
  }
  r.signal.throwIfAborted();
  // A last odd byte (splitter.pending) would be half a sample from a broken reply: dropped.
}

/** `JSON.parse` that gives `undefined` for a body that is not JSON (error bodies may be text). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The body text, shortened for an error message. */
export function shortText(text: string, max = 300): string {
  const t = text.trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** What one HTTP PCM provider sends for one synthesis (its wire format). */
export type PcmHttpCall = Pick<PcmHttpRequest, 'url' | 'headers' | 'body' | 'sourceRate'>;

/**
 * The shared shape of the HTTP PCM TTS adapters (ElevenLabs, OpenAI, Deepgram Aura, Cartesia):
 * options resolved over the defaults, the SSRF-guarded dispatcher for a team's base URL, the
 * checks before any request, and the streaming; each provider supplies only `call` (its
 * request) and `errorMessage` (how to read its error bodies).
 */
export abstract class HttpPcmTts<O extends { baseUrl: string; timeoutMs: number; maxTextChars: number }>
  implements TtsProvider
{
  abstract readonly name: string;
  protected readonly o: O;
  /** The SSRF-guarded Agent when the base URL is a team's; undici's global one otherwise. */
  private readonly dispatcher: Dispatcher | undefined;

  constructor(
    defaults: O,
    options: Partial<O> & { guard?: ConnectionGuard },
    private readonly speedRange?: { min: number; max: number },
  ) {
    this.dispatcher = guardedDispatcher(options.guard);
    this.o = resolvedOptions<O>(defaults, options);
  }

  protected abstract call(
    input: { text: string; sampleRate: 8000 | 16000; speed: number },
    options: TtsOptions,
  ): PcmHttpCall;

  protected abstract errorMessage(status: number, body: string): string;

  async *synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array> {
    signal.throwIfAborted();
    const checked = checkedTtsRequest(this.name, text, options, {
      maxTextChars: this.o.maxTextChars,
      ...(this.speedRange ? { speedRange: this.speedRange } : {}),
    });
    if (!checked) return;
    yield* streamPcmOverHttp({
      provider: this.name,
      ...this.call({ text: checked.input, sampleRate: checked.sampleRate, speed: checked.speed }, options),
      sampleRate: checked.sampleRate,
      timeoutMs: this.o.timeoutMs,
      signal,
      errorMessage: (status, body) => this.errorMessage(status, body),
      dispatcher: this.dispatcher,
    });
  }
}
