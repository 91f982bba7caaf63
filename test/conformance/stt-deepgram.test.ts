/**
 * Deepgram streaming STT against its protocol fake (src/testing/provider-fakes/deepgram-stt.ts):
 * the conformance suite, then what only this adapter does (query, KeepAlive, Finalize,
 * buffering before the socket opens, segment accumulation, error details).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeepgramStt } from '../../src/stt/deepgram/index.js';
import type { SttEvent, SttStream } from '../../src/stt/stt.js';
import { type DeepgramSttFake, startDeepgramSttFake } from '../../src/testing/provider-fakes/deepgram-stt.js';
import { describeSttConformance, roomNoise } from './stt-conformance.js';

const never = new AbortController().signal;

/** "Speech" for the fake: a tone it hears (peak above its threshold). */
function tone(rate: number, ms: number): Int16Array {
  const out = new Int16Array((rate * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(3000 * Math.sin((2 * Math.PI * 220 * i) / rate));
  return out;
}

function pushFrames(stream: SttStream, audio: Int16Array, rate: number): void {
  const n = rate / 50;
  for (let i = 0; i < audio.length; i += n) stream.push(audio.subarray(i, i + n));
}

async function collect(stream: SttStream, until: (e: SttEvent) => boolean): Promise<SttEvent[]> {
  const events: SttEvent[] = [];
  for await (const e of stream) {
    events.push(e);
    if (until(e)) break;
  }
  return events;
}

describeSttConformance('deepgram', async () => {
  const fake = await startDeepgramSttFake();
  return {
    provider: createDeepgramStt({
      apiKey: fake.apiKey,
      baseUrl: fake.url,
      timeoutMs: 2000,
      // Far below 5 minutes, so pushing them at once must trip the bound.
      maxSendBacklogMs: 10_000,
    }),
    sampleRates: [16000, 8000],
    streamsPartials: true,
    timeoutMs: 2000,
    utterance: async (rate) => ({ audio: tone(rate, 1200), text: 'Book a table for two.' }),
    overLong: { outcome: 'error', code: 'send_backlog', retryable: true },
    faults: {
      unauthorized: () => fake.failNext('unauthorized'),
      rateLimit: () => fake.failNext('rateLimit'),
      serverError: () => fake.failNext('serverError'),
      disconnectMidStream: () => fake.failNext('disconnect'),
      stall: () => fake.failNext('stall'),
    },
    close: () => fake.close(),
  };
});

describe('Deepgram adapter details', () => {
  let fake: DeepgramSttFake;
  beforeAll(async () => {
    fake = await startDeepgramSttFake({
      script: [
        { text: 'Hello there.', interim: ['hello'], finalAfterMs: 400 },
        { text: 'I need a table', interim: ['i need'] },
      ],
      noAudioTimeoutMs: 400,
    });
  });
  afterAll(() => fake.close());

  it('sends the documented query and auth header, buffers audio pushed before the socket opens', async () => {
    const stt = createDeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 2000 });
    const stream = stt.stream({ sampleRate: 8000, language: 'en-GB', model: 'nova-2' }, never);
    // Pushed synchronously, before the socket can be open.
    pushFrames(stream, tone(8000, 500), 8000);
    const events = await collect(stream, (e) => e.type === 'final');
    const conn = fake.connections.at(-1);
    expect(conn?.authorization).toBe(`Token ${fake.apiKey}`);
    expect(Object.fromEntries(conn?.query ?? [])).toMatchObject({
      model: 'nova-2',
      encoding: 'linear16',
      sample_rate: '8000',
      channels: '1',
      interim_results: 'true',
      punctuate: 'true',
      smart_format: 'true',
      language: 'en-GB',
    });
    // Deepgram endpointed by itself (speech_final): no flush was needed.
    expect(events.map((e) => e.type)).toEqual(['partial', 'final']);
    expect(events[1]).toMatchObject({
      type: 'final',
      text: 'Hello there.',
      confidence: 0.97,
      startOffsetMs: 0,
    });
    expect(conn?.audioMs).toBe(500);
    await stream.close();
    expect(conn?.controlMessages).toContain('CloseStream');
    expect(await conn?.closed).toBe(1000);
  });

  it('keeps an idle stream alive with KeepAlive and finalises on flush()', async () => {
    const stt = createDeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url, keepAliveMs: 100 });
    fake.setScript([{ text: 'I need a table', interim: ['i need'] }]);
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US' }, never);
    const it = stream[Symbol.asyncIterator]();
    pushFrames(stream, tone(16000, 300), 16000);
    expect(await it.next()).toMatchObject({ value: { type: 'partial', text: 'i need' } });
    const conn = fake.connections.at(-1);
    // The fake closes after 400 ms without audio or KeepAlive: wait through several of those.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if ((conn?.controlMessages.filter((m) => m === 'KeepAlive').length ?? 0) >= 6) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });
    pushFrames(stream, roomNoise(16000 * 0.2), 16000);
    stream.flush();
    const next = await it.next();
    expect(next.value).toMatchObject({
      type: 'final',
      text: 'I need a table',
      startOffsetMs: 0,
      endOffsetMs: 300,
    });
    expect(conn?.controlMessages.filter((m) => m !== 'KeepAlive')).toEqual(['Finalize']);
    await stream.close();
  });

  it('bounds the audio kept before the socket opens, keeping offsets right; abort releases the socket', async () => {
    fake.setScript([{ text: 'Late words', interim: [] }]);
    const stt = createDeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url, maxPendingAudioMs: 1000 });
    const controller = new AbortController();
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US' }, controller.signal);
    const connections = fake.connections.length;
    // 2.5 s of silence then 0.5 s of speech, all before the socket is open: the first 2 s drop.
    pushFrames(stream, roomNoise(16000 * 2.5), 16000);
    pushFrames(stream, tone(16000, 500), 16000);
    stream.flush();
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({
      type: 'final',
      text: 'Late words',
      startOffsetMs: 2500,
      endOffsetMs: 3000,
    });
    const conn = fake.connections[connections];
    expect(conn?.audioMs).toBe(1000);
    controller.abort();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    // Terminated at once (no close handshake, no CloseStream): the server sees 1006.
    expect(await conn?.closed).toBe(1006);
    expect(conn?.controlMessages).toEqual(['Finalize']);
  });

  it("Deepgram's idle close (1011 NET-0001, no KeepAlive in time) is a retryable connection_lost", async () => {
    const stt = createDeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url, keepAliveMs: 60_000 });
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US' }, never);
    pushFrames(stream, roomNoise(1600), 16000);
    const events = await collect(stream, () => false);
    expect(events).toMatchObject([{ type: 'error', error: { code: 'connection_lost', retryable: true } }]);
    expect(events[0]?.type === 'error' && events[0].error.message).toContain('1011 NET-0001');
  });

  it('joins is_final segments into one final and reports the dg-error detail of a refused upgrade', async () => {
    fake.failNext('unauthorized');
    const stt = createDeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url });
    const refused = stt.stream({ sampleRate: 16000, language: 'en-US' }, never);
    const [event] = await collect(refused, () => false);
    expect(event?.type === 'error' && event.error.message).toContain('Invalid credentials.');

    fake.failNext('stallUpgrade');
    const quick = createDeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 300 });
    expect(
      await collect(quick.stream({ sampleRate: 16000, language: 'en' }, never), () => false),
    ).toMatchObject([
      {
        type: 'error',
        error: { code: 'timeout', retryable: true, message: expect.stringContaining('accept') },
      },
    ]);

    const noKey = createDeepgramStt({ baseUrl: fake.url }).stream(
      { sampleRate: 16000, language: 'en' },
      never,
    );
    expect(await collect(noKey, () => false)).toMatchObject([
      { type: 'error', error: { code: 'unauthorized', retryable: false } },
    ]);

    fake.setScript([{ text: 'unused', segments: ['First part,', 'second part.'], confidence: 0.8 }]);
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US' }, never);
    pushFrames(stream, tone(16000, 400), 16000);
    stream.flush();
    const events = await collect(stream, (e) => e.type === 'final');
    expect(events.at(-1)).toMatchObject({
      type: 'final',
      text: 'First part, second part.',
      confidence: 0.8,
      startOffsetMs: 0,
      endOffsetMs: 400,
    });
    await stream.close();
  });
});
