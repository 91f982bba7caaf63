import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../src/shared/provider-error.js';
import type { TtsOptions, TtsProvider } from '../../src/tts/tts.js';

/**
 * The conformance suite every TTS provider registers against, in its own file
 * `test/conformance/tts-<provider>.test.ts`:
 *
 *   describeTtsConformance('elevenlabs', async () => {
 *     const fake = await startElevenLabsFake();
 *     return { provider: createElevenLabsTts({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 300 }),
 *              sampleRates: [8000, 16000], expectedAudio: ..., faults: fake, close: () => fake.close() };
 *   });
 *
 * A target with a controllable backend (a protocol fake) gives `expectedAudio`, `faults` and the
 * request counters, and the suite asserts exact behaviour: the PCM that arrives is exactly the
 * waveform the fake sent (whatever the chunk boundaries, odd byte counts included), the first
 * chunk arrives while the fake still holds back the last one, an abort releases the connection,
 * faults map to the right `ProviderError`, empty or refused input sends no request. A target
 * without one (a local engine) leaves them out: the cases then assert weaker but meaningful
 * properties (plausible duration, several chunks for long text, abort stops quietly) and the
 * fault cases are skipped with the reason in their name.
 */
export interface TtsConformanceTarget {
  provider: TtsProvider;
  /** The rates the provider can produce; the audio cases run once per rate. */
  sampleRates: readonly TtsOptions['sampleRate'][];
  /** Put in every request's `voice` when given (else the provider's default voice). */
  voice?: string;
  /** A short sentence. Default `Hello, this is a short test of speech synthesis.` */
  text?: string;
  /** Text the provider delivers in at least two chunks. Default `text`. */
  streamingText?: string;
  /**
   * The exact samples the target produces for `text` at `sampleRate` and `speed` (a fake's
   * deterministic waveform, resampled the way the adapter must). Without it the duration only
   * has to be plausible: 0.1 … 30 s for the short sentence.
   */
  expectedAudio?(text: string, sampleRate: TtsOptions['sampleRate'], speed: number): Int16Array;
  /**
   * A speed the provider accepts other than 1 (the speed case checks it changes the audio).
   * Default 1.2 (inside every provider's range; ElevenLabs accepts 0.7 … 1.2).
   */
  altSpeed?: number;
  /**
   * Text beyond the provider's limit and what it does with it: `text_too_long` = a
   * non-retryable `tts_error` with that code before any request; `audio` = it is synthesised
   * (split into pieces). Leave out to skip the case (e.g. a local engine without a limit, where
   * minutes of audio would only slow the suite down).
   */
  overLongText?: { text: string; expect: 'text_too_long' | 'audio' };
  /** Fault injection; each call arms the backend for its NEXT request only. */
  faults?: TtsConformanceFaults;
  /** Requests the backend has received so far (to prove refused input sends none). */
  requestCount?(): number;
  /** Requests the backend is still serving (to prove an abort releases the connection). */
  activeRequests?(): number;
  /** Releases the backend (fake servers, loaded models). */
  close?(): Promise<void>;
}

export interface TtsConformanceFaults {
  /** Next request: HTTP 500 (or 503). Expect retryable `tts_error` code `server_error`. */
  serverError(status?: 500 | 503): void;
  /** Next request: HTTP 429 with `Retry-After`. Expect retryable code `rate_limited`. */
  rateLimit(retryAfterSeconds?: number): void;
  /** Next request: HTTP 401 with the provider's error body. Expect non-retryable `unauthorized`. */
  unauthorized(): void;
  /** Next request: some audio, then the socket is destroyed. Expect retryable `connection_lost`. */
  disconnectMidStream(): void;
  /** Next request: headers, then silence. Expect retryable `timeout` within the target's deadline. */
  stall(): void;
  /**
   * Next request: everything but the last chunk is sent, the last one waits until the returned
   * function is called (to observe streaming and abort without timing assumptions).
   */
  holdLastChunk(): () => void;
}

const DEFAULT_TEXT = 'Hello, this is a short test of speech synthesis.';
/** Only a failure path: how long a held chunk waits before the case gives up and releases it. */
const HOLD_SAFETY_MS = 10_000;

function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

async function collect(
  provider: TtsProvider,
  text: string,
  options: TtsOptions,
  signal: AbortSignal = new AbortController().signal,
): Promise<Int16Array[]> {
  const chunks: Int16Array[] = [];
  for await (const chunk of provider.synthesize(text, options, signal)) chunks.push(chunk);
  return chunks;
}

/** Runs a synthesis to its end and returns what it threw (failing the case if nothing). */
async function failure(
  provider: TtsProvider,
  text: string,
  options: TtsOptions,
): Promise<{ error: ProviderError; chunks: Int16Array[] }> {
  const chunks: Int16Array[] = [];
  try {
    for await (const chunk of provider.synthesize(text, options, new AbortController().signal)) {
      chunks.push(chunk);
    }
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return { error: error as ProviderError, chunks };
  }
  throw new Error('expected a ProviderError, but the synthesis completed');
}

/** Arms a hold that releases itself after `HOLD_SAFETY_MS` so a broken adapter fails, not hangs. */
function hold(faults: TtsConformanceFaults): { release(): void; readonly released: boolean } {
  const release = faults.holdLastChunk();
  let released = false;
  const timer = setTimeout(() => state.release(), HOLD_SAFETY_MS);
  const state = {
    release() {
      clearTimeout(timer);
      if (!released) {
        released = true;
        release();
      }
    },
    get released() {
      return released;
    },
  };
  return state;
}

export function describeTtsConformance(name: string, setup: () => Promise<TtsConformanceTarget>): void {
  describe(`TTS conformance: ${name}`, () => {
    let t: TtsConformanceTarget;
    const options = (sampleRate: TtsOptions['sampleRate'], extra: Partial<TtsOptions> = {}): TtsOptions => ({
      sampleRate,
      ...(t.voice !== undefined ? { voice: t.voice } : {}),
      ...extra,
    });
    const text = () => t.text ?? DEFAULT_TEXT;
    const firstRate = () => t.sampleRates[0] ?? 16000;

    beforeAll(async () => {
      t = await setup();
      expect(t.provider.name).toBe(name);
      expect(t.sampleRates.length).toBeGreaterThan(0);
    });
    afterAll(async () => {
      await t?.close?.();
    });

    for (const rate of [8000, 16000] as const) {
      it(`${rate} Hz: Int16Array chunks of the right audio at the requested rate`, async (ctx) => {
        if (!t.sampleRates.includes(rate)) ctx.skip(`${name} does not produce ${rate} Hz`);
        const chunks = await collect(t.provider, text(), options(rate));
        expect(chunks.length).toBeGreaterThan(0);
        for (const chunk of chunks) {
          expect(chunk).toBeInstanceOf(Int16Array);
          expect(chunk.length).toBeGreaterThan(0);
        }
        const audio = concat(chunks);
        if (t.expectedAudio) {
          // Exact: the whole waveform, whatever the chunk (and odd-byte) boundaries were.
          const expected = t.expectedAudio(text(), rate, 1);
          expect(audio.length).toBe(expected.length);
          expect(Buffer.from(audio.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
        } else {
          const seconds = audio.length / rate;
          expect(seconds).toBeGreaterThan(0.1);
          expect(seconds).toBeLessThan(30);
        }
        // Not silence.
        expect(audio.some((s) => Math.abs(s) > 100)).toBe(true);
      });
    }

    it('streams: several chunks, the first before the last is produced', async () => {
      const streamingText = t.streamingText ?? text();
      if (!t.faults) {
        const chunks = await collect(t.provider, streamingText, options(firstRate()));
        expect(chunks.length).toBeGreaterThanOrEqual(2);
        return;
      }
      const held = hold(t.faults);
      try {
        const iterator = t.provider
          .synthesize(streamingText, options(firstRate()), new AbortController().signal)
          [Symbol.asyncIterator]();
        const first = await iterator.next();
        expect(first.done).toBe(false);
        // The backend has not sent its last chunk yet: the adapter does not buffer the response.
        expect(held.released).toBe(false);
        held.release();
        let count = 1;
        while (!(await iterator.next()).done) count++;
        expect(count).toBeGreaterThanOrEqual(2);
      } finally {
        held.release();
      }
    });

    it('abort mid-stream stops promptly, quietly (no ProviderError) and releases the request', async () => {
      const held = t.faults ? hold(t.faults) : undefined;
      try {
        const controller = new AbortController();
        const iterator = t.provider
          .synthesize(t.streamingText ?? text(), options(firstRate()), controller.signal)
          [Symbol.asyncIterator]();
        expect((await iterator.next()).done).toBe(false);
        controller.abort();
        let thrown: unknown;
        try {
          while (!(await iterator.next()).done) {
            // Chunks already decoded may still come; the loop must end without the backend.
          }
        } catch (error) {
          thrown = error;
        }
        expect(thrown).not.toBeInstanceOf(ProviderError);
        // Ended while the backend still held its last chunk: the abort did it, not the end of data.
        if (held) expect(held.released).toBe(false);
        const active = t.activeRequests;
        if (active) await vi.waitFor(() => expect(active()).toBe(0));
      } finally {
        held?.release();
      }
    });

    it('abort before the call: nothing is requested, no ProviderError', async () => {
      const before = t.requestCount?.();
      const controller = new AbortController();
      controller.abort();
      let thrown: unknown;
      const chunks: Int16Array[] = [];
      try {
        for await (const chunk of t.provider.synthesize(text(), options(firstRate()), controller.signal)) {
          chunks.push(chunk);
        }
      } catch (error) {
        thrown = error;
      }
      expect(thrown).not.toBeInstanceOf(ProviderError);
      expect(chunks).toHaveLength(0);
      if (before !== undefined) expect(t.requestCount?.()).toBe(before);
    });

    it('empty or whitespace text: no audio, no error, no request', async () => {
      const before = t.requestCount?.();
      expect(await collect(t.provider, '', options(firstRate()))).toHaveLength(0);
      expect(await collect(t.provider, ' \n\t ', options(firstRate()))).toHaveLength(0);
      if (before !== undefined) expect(t.requestCount?.()).toBe(before);
    });

    it('speed within range changes the audio; out of range is a non-retryable tts_error', async () => {
      const speed = t.altSpeed ?? 1.2;
      const normal = concat(await collect(t.provider, text(), options(firstRate())));
      const faster = concat(await collect(t.provider, text(), options(firstRate(), { speed })));
      if (t.expectedAudio) {
        expect(faster.length).toBe(t.expectedAudio(text(), firstRate(), speed).length);
      }
      if (speed > 1) expect(faster.length).toBeLessThan(normal.length);
      else expect(faster.length).toBeGreaterThan(normal.length);

      const before = t.requestCount?.();
      for (const bad of [0, 10, Number.NaN]) {
        const { error, chunks } = await failure(t.provider, text(), options(firstRate(), { speed: bad }));
        expect(chunks).toHaveLength(0);
        expect(error.type).toBe('tts_error');
        expect(error.retryable).toBe(false);
        expect(error.provider).toBe(name);
      }
      if (before !== undefined) expect(t.requestCount?.()).toBe(before);
    });

    it('over-long text: the defined behaviour (refused before any request, or spoken)', async (ctx) => {
      const long = t.overLongText;
      if (!long) return ctx.skip(`${name} has no text limit to test (long text is split into pieces)`);
      if (long.expect === 'audio') {
        const audio = concat(await collect(t.provider, long.text, options(firstRate())));
        expect(audio.length).toBeGreaterThan(0);
        return;
      }
      const before = t.requestCount?.();
      const { error, chunks } = await failure(t.provider, long.text, options(firstRate()));
      expect(chunks).toHaveLength(0);
      expect(error).toMatchObject({
        type: 'tts_error',
        code: 'text_too_long',
        retryable: false,
        provider: name,
      });
      if (before !== undefined) expect(t.requestCount?.()).toBe(before);
    });

    describe('errors (needs a backend with fault injection)', () => {
      const faults = (ctx: { skip(note?: string): never }): TtsConformanceFaults => {
        if (!t.faults) return ctx.skip(`${name} has no backend to inject faults into (a local engine)`);
        return t.faults;
      };

      for (const status of [500, 503] as const) {
        it(`HTTP ${status}: retryable tts_error server_error`, async (ctx) => {
          faults(ctx).serverError(status);
          const { error, chunks } = await failure(t.provider, text(), options(firstRate()));
          expect(chunks).toHaveLength(0);
          expect(error).toMatchObject({
            type: 'tts_error',
            code: 'server_error',
            retryable: true,
            provider: name,
          });
        });
      }

      it('HTTP 429 with Retry-After: retryable rate_limited', async (ctx) => {
        faults(ctx).rateLimit(7);
        const { error } = await failure(t.provider, text(), options(firstRate()));
        expect(error).toMatchObject({
          type: 'tts_error',
          code: 'rate_limited',
          retryable: true,
          provider: name,
        });
      });

      it('HTTP 401: non-retryable unauthorized', async (ctx) => {
        faults(ctx).unauthorized();
        const { error } = await failure(t.provider, text(), options(firstRate()));
        expect(error).toMatchObject({
          type: 'tts_error',
          code: 'unauthorized',
          retryable: false,
          provider: name,
        });
      });

      it('disconnect mid-stream: the audio so far, then a retryable connection_lost', async (ctx) => {
        faults(ctx).disconnectMidStream();
        const { error, chunks } = await failure(t.provider, text(), options(firstRate()));
        expect(chunks.length).toBeGreaterThan(0);
        expect(error).toMatchObject({
          type: 'tts_error',
          code: 'connection_lost',
          retryable: true,
          provider: name,
        });
      });

      it('stall after the headers: a retryable timeout within the provider deadline', async (ctx) => {
        faults(ctx).stall();
        const { error, chunks } = await failure(t.provider, text(), options(firstRate()));
        expect(chunks).toHaveLength(0);
        expect(error).toMatchObject({ type: 'tts_error', code: 'timeout', retryable: true, provider: name });
        // The next request works again (the stalled connection was released).
        expect((await collect(t.provider, text(), options(firstRate()))).length).toBeGreaterThan(0);
      });
    });
  });
}
