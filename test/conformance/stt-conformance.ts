import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/shared/provider-error.js';
import type { SttEvent, SttOptions, SttProvider, SttStream } from '../../src/stt/stt.js';

/**
 * The conformance suite every STT provider registers against, in its own file
 * `test/conformance/stt-<provider>.test.ts`:
 *
 *   describeSttConformance('deepgram', async () => {
 *     const fake = await startDeepgramSttFake({ script: [...] });
 *     return {
 *       provider: createDeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 500 }),
 *       sampleRates: [16000, 8000], streamsPartials: true, timeoutMs: 500,
 *       utterance: async (rate) => ({ audio: tone(rate, 1200), text: 'book a table' }),
 *       faults: { unauthorized: () => fake.failNext('unauthorized'), ... },
 *       close: () => fake.close(),
 *     };
 *   });
 *
 * A target with a controllable backend (a protocol fake) gives `faults`; a local engine leaves
 * them out and those cases are skipped with the reason in their name.
 *
 * Defined behaviours every provider must follow (the engine relies on them):
 * - `push()` never throws and never blocks; failures arrive as an `error` event carrying a
 *   `ProviderError` of type `stt_error`, after which the iteration ends.
 * - `flush()` makes the provider finalise the pending utterance now (no more audio needed).
 * - Abort (the stream's signal) or `close()` ends the iteration promptly with no `error`
 *   event; `close()` may still deliver the final of an utterance in progress.
 * - Silence gives no final with text (providers filter empty finals).
 * - Over-long input (minutes pushed faster than real time) does not throw, crash or buffer
 *   without bound: the target declares the outcome (`overLong`), either finals (a provider that
 *   buffers audio locally caps an utterance at `maxUtteranceMs`, cutting longer speech into
 *   several utterances) or one clear `error` event (e.g. a streaming provider whose send queue
 *   outgrew its bound).
 */
export interface SttConformanceTarget {
  provider: SttProvider;
  /** Sample rates the provider accepts; the basic round trip runs at each. */
  sampleRates: readonly SttOptions['sampleRate'][];
  /** Default 'en-US'. */
  language?: string;
  /** Extra stream options (e.g. a model name). */
  options?: Partial<Omit<SttOptions, 'sampleRate'>>;
  /** Caller audio for one utterance (mono PCM16 at `sampleRate`) and the text expected back. */
  utterance(sampleRate: SttOptions['sampleRate']): Promise<SttConformanceUtterance>;
  /** Whether the provider emits `partial` events before a final. */
  streamsPartials: boolean;
  /** The provider's stall deadline (ms), set short in tests. Needed for the stall case. */
  timeoutMs?: number;
  /** Fault injection; each call arms the backend for its NEXT connection/request only. */
  faults?: SttConformanceFaults;
  /** Longest utterance (ms of audio) one final may cover, for providers that buffer locally. */
  maxUtteranceMs?: number;
  /**
   * Over-long input: `ms` of audio (default 300 000, 5 minutes) pushed as fast as possible.
   * `outcome` is the provider's defined behaviour: `finals` (transcribed, in utterances of at
   * most `maxUtteranceMs` when set; the default) or one `error` event with this code.
   */
  overLong?: { ms?: number } & (
    | { outcome: 'finals' }
    | { outcome: 'error'; code: string; retryable: boolean }
  );
  /**
   * Cases the provider is known to fail, with the reason (a tracked bug). Such a case still
   * runs: it is reported as skipped with the reason while it fails, and fails once it passes
   * (so the entry gets removed when the bug is fixed).
   */
  knownIssues?: Partial<Record<SttConformanceCase, string>>;
  /** Releases the backend (fake servers, decoders). */
  close(): Promise<void>;
}

export type SttConformanceCase = 'silence';

export interface SttConformanceUtterance {
  audio: Int16Array;
  /** The text the provider should return for `audio`. */
  text: string;
  /** Whether `actual` is an acceptable transcript. Default: equal ignoring case and punctuation. */
  matches?(actual: string): boolean;
}

export interface SttConformanceFaults {
  /** Next connection/request: HTTP 401. Expect non-retryable code `unauthorized`. */
  unauthorized(): void;
  /** Next: HTTP 5xx. Expect retryable. */
  serverError(): void;
  /** Next: HTTP 429 (with `Retry-After`). Expect retryable code `rate_limited`. */
  rateLimit(): void;
  /** Next: the connection is dropped while audio or results are flowing. Expect retryable. */
  disconnectMidStream(): void;
  /** Next: the backend accepts and then says nothing. Expect retryable code `timeout`. */
  stall(): void;
}

type Final = Extract<SttEvent, { type: 'final' }>;

const never = new AbortController().signal;

/** Normalises for comparison: lower case, words only. */
export function normaliseTranscript(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Deterministic low-level noise (a quiet room), so silence is never digital zero. */
export function roomNoise(samples: number, amplitude = 30, seed = 1): Int16Array {
  const out = new Int16Array(samples);
  let s = seed;
  for (let i = 0; i < samples; i++) {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    out[i] = (s % (2 * amplitude + 1)) - amplitude;
  }
  return out;
}

/** Room noise pushed before each utterance (ms). */
const LEAD_IN_MS = 300;

function frameSamples(rate: number): number {
  return rate / 50; // 20 ms, as calls push
}

/** Pushes audio in 20 ms frames (faster than real time); returns the ms pushed. */
function pushAudio(stream: SttStream, audio: Int16Array, rate: number): number {
  const n = frameSamples(rate);
  let pushed = 0;
  for (let i = 0; i < audio.length; i += n) {
    const frame = audio.subarray(i, Math.min(i + n, audio.length));
    stream.push(frame);
    pushed += frame.length;
  }
  return (pushed * 1000) / rate;
}

async function nextEvent(iterator: AsyncIterator<SttEvent>): Promise<SttEvent | undefined> {
  const { value, done } = await iterator.next();
  return done ? undefined : value;
}

/** Events up to and including the first final (or error); `undefined` entries never appear. */
async function untilFinalOrError(iterator: AsyncIterator<SttEvent>): Promise<SttEvent[]> {
  const events: SttEvent[] = [];
  for (;;) {
    const event = await nextEvent(iterator);
    if (!event) return events;
    events.push(event);
    if (event.type === 'error' || (event.type === 'final' && event.text.trim() !== '')) return events;
  }
}

async function drain(iterator: AsyncIterator<SttEvent>): Promise<SttEvent[]> {
  const events: SttEvent[] = [];
  for (;;) {
    const event = await nextEvent(iterator);
    if (!event) return events;
    events.push(event);
  }
}

function describeEvents(events: readonly SttEvent[]): string {
  return JSON.stringify(
    events.map((e) =>
      e.type === 'error' ? { type: 'error', code: e.error.code, message: e.error.message } : e,
    ),
  );
}

export function describeSttConformance(name: string, setup: () => Promise<SttConformanceTarget>): void {
  describe(`STT conformance: ${name}`, () => {
    let target: SttConformanceTarget;
    let language: string;

    beforeAll(async () => {
      target = await setup();
      language = target.language ?? 'en-US';
    });
    afterAll(async () => {
      await target?.close();
    });

    function open(sampleRate: SttOptions['sampleRate'], signal: AbortSignal = never): SttStream {
      return target.provider.stream({ ...target.options, sampleRate, language }, signal);
    }

    function firstRate(): SttOptions['sampleRate'] {
      const rate = target.sampleRates[0];
      if (rate === undefined) throw new Error('target.sampleRates is empty');
      return rate;
    }

    /** Quiet lead-in, the utterance, quiet tail; returns the ms pushed. */
    function pushUtterance(stream: SttStream, audio: Int16Array, rate: number): number {
      let ms = pushAudio(stream, roomNoise((rate * LEAD_IN_MS) / 1000), rate);
      ms += pushAudio(stream, audio, rate);
      ms += pushAudio(stream, roomNoise(rate * 0.3, 30, 7), rate);
      return ms;
    }

    it('names itself', () => {
      expect(target.provider.name).toBe(name);
      expect(target.sampleRates.length).toBeGreaterThan(0);
    });

    it('transcribes an utterance at every supported sample rate: text, confidence, offsets, timestamp', async () => {
      for (const rate of target.sampleRates) {
        const utterance = await target.utterance(rate);
        const stream = open(rate);
        const iterator = stream[Symbol.asyncIterator]();
        const before = Date.now();
        let pushedMs = 0;
        expect(() => {
          pushedMs = pushUtterance(stream, utterance.audio, rate);
          stream.flush();
        }).not.toThrow();
        const events = await untilFinalOrError(iterator);
        const after = Date.now();
        const final = events.find((e): e is Final => e.type === 'final' && e.text.trim() !== '');
        expect(final, `${rate} Hz: ${describeEvents(events)}`).toBeDefined();
        if (!final) return;
        const matches =
          utterance.matches ??
          ((actual: string) => normaliseTranscript(actual) === normaliseTranscript(utterance.text));
        expect(matches(final.text), `${rate} Hz: '${final.text}' vs '${utterance.text}'`).toBe(true);
        if (final.confidence !== undefined) {
          expect(final.confidence).toBeGreaterThanOrEqual(0);
          expect(final.confidence).toBeLessThanOrEqual(1);
        }
        expect(Number.isFinite(final.startOffsetMs) && Number.isFinite(final.endOffsetMs)).toBe(true);
        expect(final.startOffsetMs).toBeGreaterThanOrEqual(0);
        expect(final.startOffsetMs).toBeLessThanOrEqual(final.endOffsetMs);
        // Within the audio pushed (a frame of rounding allowed).
        expect(final.endOffsetMs).toBeLessThanOrEqual(pushedMs + 20);
        // The utterance ends after the speech began (past the quiet lead-in). Its start may be
        // the speech's first word or the start of the audio the provider decoded as one piece.
        expect(final.endOffsetMs, 'end offset vs lead-in').toBeGreaterThan(LEAD_IN_MS);
        expect(final.timestampMs).toBeGreaterThanOrEqual(before);
        expect(final.timestampMs).toBeLessThanOrEqual(after);
        await stream.close();
        const rest = await drain(iterator);
        expect(rest.filter((e) => e.type === 'error')).toEqual([]);
      }
    });

    it('streams partials before the final (skipped for finals-only providers)', async (ctx) => {
      if (!target.streamsPartials) {
        ctx.skip();
        return;
      }
      const rate = firstRate();
      const utterance = await target.utterance(rate);
      const stream = open(rate);
      const iterator = stream[Symbol.asyncIterator]();
      pushUtterance(stream, utterance.audio, rate);
      stream.flush();
      const events = await untilFinalOrError(iterator);
      const finalAt = events.findIndex((e) => e.type === 'final' && e.text.trim() !== '');
      expect(finalAt, describeEvents(events)).toBeGreaterThan(0);
      const partials = events.slice(0, finalAt).filter((e) => e.type === 'partial');
      expect(partials.length, describeEvents(events)).toBeGreaterThan(0);
      for (const p of partials) if (p.type === 'partial') expect(typeof p.text).toBe('string');
      expect(partials.some((p) => p.type === 'partial' && p.text.trim() !== '')).toBe(true);
      await stream.close();
    });

    it('flush() finalises the pending utterance without more audio and without closing', async () => {
      const rate = firstRate();
      const utterance = await target.utterance(rate);
      const stream = open(rate);
      const iterator = stream[Symbol.asyncIterator]();
      // The utterance is followed by no silence at all: only flush() can end it.
      pushAudio(stream, roomNoise(rate * 0.3), rate);
      pushAudio(stream, utterance.audio, rate);
      stream.flush();
      const events = await untilFinalOrError(iterator);
      expect(
        events.some((e) => e.type === 'final' && e.text.trim() !== ''),
        describeEvents(events),
      ).toBe(true);
      // A second utterance on the same stream is finalised the same way, with later offsets.
      const first = events.find((e): e is Final => e.type === 'final' && e.text.trim() !== '');
      pushAudio(stream, roomNoise(rate * 0.3, 30, 3), rate);
      pushAudio(stream, utterance.audio, rate);
      stream.flush();
      const events2 = await untilFinalOrError(iterator);
      const second = events2.find((e): e is Final => e.type === 'final' && e.text.trim() !== '');
      expect(second, describeEvents(events2)).toBeDefined();
      if (first && second) expect(second.startOffsetMs).toBeGreaterThanOrEqual(first.endOffsetMs - 20);
      await stream.close();
    });

    it('abort ends the iteration promptly with no error event', async () => {
      const rate = firstRate();
      const utterance = await target.utterance(rate);
      const controller = new AbortController();
      const stream = open(rate, controller.signal);
      const iterator = stream[Symbol.asyncIterator]();
      pushUtterance(stream, utterance.audio, rate);
      controller.abort();
      const events = await drain(iterator);
      expect(
        events.filter((e) => e.type === 'error'),
        describeEvents(events),
      ).toEqual([]);
      expect(() => stream.push(new Int16Array(frameSamples(rate)))).not.toThrow();
      await stream.close();
      // A stream opened with an already aborted signal ends at once.
      const aborted = open(rate, AbortSignal.abort());
      aborted.push(utterance.audio.subarray(0, frameSamples(rate)));
      expect((await drain(aborted[Symbol.asyncIterator]())).filter((e) => e.type === 'error')).toEqual([]);
      await aborted.close();
    });

    it('close() ends the iteration with no error event', async () => {
      const rate = firstRate();
      const utterance = await target.utterance(rate);
      const stream = open(rate);
      const iterator = stream[Symbol.asyncIterator]();
      pushUtterance(stream, utterance.audio, rate);
      const closed = stream.close();
      const events = await drain(iterator);
      await closed;
      expect(
        events.filter((e) => e.type === 'error'),
        describeEvents(events),
      ).toEqual([]);
      // Only finals of the utterance in progress may still arrive, and they carry text.
      for (const e of events) if (e.type === 'final') expect(e.text.trim()).not.toBe('');
      expect(() => stream.push(new Int16Array(frameSamples(rate)))).not.toThrow();
      expect(() => stream.flush()).not.toThrow();
    });

    it('silence only gives no final with text', async (ctx) => {
      const knownIssue = target.knownIssues?.silence;
      try {
        await silenceCase();
      } catch (error) {
        if (knownIssue) ctx.skip(`known issue: ${knownIssue}`);
        throw error;
      }
      if (knownIssue) throw new Error(`passes now: remove knownIssues.silence ('${knownIssue}')`);
    });

    async function silenceCase(): Promise<void> {
      const rate = firstRate();
      const stream = open(rate);
      const iterator = stream[Symbol.asyncIterator]();
      pushAudio(stream, roomNoise(rate * 2, 30, 11), rate);
      stream.flush();
      pushAudio(stream, roomNoise(rate * 0.5, 30, 12), rate);
      const closed = stream.close();
      const events = await drain(iterator);
      await closed;
      expect(
        events.filter((e) => e.type === 'error'),
        describeEvents(events),
      ).toEqual([]);
      expect(
        events.filter((e) => e.type === 'final' && e.text.trim() !== ''),
        describeEvents(events),
      ).toEqual([]);
    }

    it('over-long input pushed quickly neither throws nor buffers without bound', async () => {
      const rate = firstRate();
      const utterance = await target.utterance(rate);
      const overLong = target.overLong ?? { outcome: 'finals' };
      const totalMs = overLong.ms ?? 300_000;
      const stream = open(rate);
      const iterator = stream[Symbol.asyncIterator]();
      // First a normal utterance, so the stream is live (connected, decoder loaded) …
      const warmUpMs = pushUtterance(stream, utterance.audio, rate);
      stream.flush();
      const warmUp = await untilFinalOrError(iterator);
      expect(
        warmUp.some((e) => e.type === 'final'),
        describeEvents(warmUp),
      ).toBe(true);
      // … then minutes of speech at once.
      const events: SttEvent[] = [];
      const consumed = (async () => {
        for (;;) {
          const event = await nextEvent(iterator);
          if (!event) return;
          events.push(event);
        }
      })();
      let pushedMs = warmUpMs;
      expect(() => {
        while (pushedMs - warmUpMs < totalMs) pushedMs += pushAudio(stream, utterance.audio, rate);
        stream.flush();
      }).not.toThrow();
      await stream.close();
      await consumed;
      const errors = events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
      const finals = events.filter((e): e is Final => e.type === 'final');
      for (const f of finals) {
        expect(f.endOffsetMs).toBeLessThanOrEqual(pushedMs + 20);
        if (target.maxUtteranceMs !== undefined)
          expect(f.endOffsetMs - f.startOffsetMs).toBeLessThanOrEqual(target.maxUtteranceMs + 20);
      }
      if (overLong.outcome === 'finals') {
        expect(errors, describeEvents(events.slice(-5))).toEqual([]);
        expect(finals.length, describeEvents(events.slice(-5))).toBeGreaterThan(0);
        if (target.maxUtteranceMs !== undefined)
          expect(finals.length).toBeGreaterThanOrEqual(Math.floor(totalMs / target.maxUtteranceMs));
      } else {
        expect(errors.length, describeEvents(events.slice(-5))).toBe(1);
        expect(errors[0]).toBeInstanceOf(ProviderError);
        expect(errors[0]).toMatchObject({
          type: 'stt_error',
          code: overLong.code,
          retryable: overLong.retryable,
        });
      }
    }, 120_000);

    describe('faults', () => {
      const faultCase = (
        label: string,
        arm: (faults: SttConformanceFaults) => void,
        expected: { retryable: boolean; code?: string },
      ) =>
        it(`${label} (needs a backend with fault injection)`, async (ctx) => {
          const faults = target.faults;
          if (!faults) {
            ctx.skip();
            return;
          }
          arm(faults);
          const rate = firstRate();
          const utterance = await target.utterance(rate);
          const stream = open(rate);
          const iterator = stream[Symbol.asyncIterator]();
          // Failures come as events, never as exceptions from push()/flush().
          expect(() => {
            pushUtterance(stream, utterance.audio, rate);
            stream.flush();
          }).not.toThrow();
          const events = await drain(iterator);
          const errors = events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
          expect(errors.length, describeEvents(events)).toBe(1);
          const error = errors[0];
          expect(error).toBeInstanceOf(ProviderError);
          expect(error).toMatchObject({ type: 'stt_error', provider: name, retryable: expected.retryable });
          if (expected.code) expect(error?.code).toBe(expected.code);
          expect(error?.message.length).toBeGreaterThan(0);
          expect(() => stream.push(utterance.audio.subarray(0, frameSamples(rate)))).not.toThrow();
          await stream.close();
        });

      faultCase('401 becomes a non-retryable stt_error', (f) => f.unauthorized(), {
        retryable: false,
        code: 'unauthorized',
      });
      faultCase('429 becomes a retryable rate_limited stt_error', (f) => f.rateLimit(), {
        retryable: true,
        code: 'rate_limited',
      });
      faultCase('5xx becomes a retryable stt_error', (f) => f.serverError(), { retryable: true });
      faultCase('a dropped connection becomes a retryable stt_error', (f) => f.disconnectMidStream(), {
        retryable: true,
      });
      faultCase('a stalled backend becomes a retryable timeout within the deadline', (f) => f.stall(), {
        retryable: true,
        code: 'timeout',
      });

      it('after a fault the next stream works again (needs a backend with fault injection)', async (ctx) => {
        if (!target.faults) {
          ctx.skip();
          return;
        }
        const rate = firstRate();
        const utterance = await target.utterance(rate);
        const stream = open(rate);
        const iterator = stream[Symbol.asyncIterator]();
        pushUtterance(stream, utterance.audio, rate);
        stream.flush();
        const events = await untilFinalOrError(iterator);
        expect(
          events.some((e) => e.type === 'final'),
          describeEvents(events),
        ).toBe(true);
        await stream.close();
      });
    });
  });
}
