/**
 * OpenAI transcription STT against its protocol fake (src/testing/provider-fakes/openai-stt.ts):
 * the conformance suite, then what only this adapter does (the multipart request it sends,
 * JSON vs SSE by model, no request for silence or too-short audio, the utterance cap).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOpenAiStt, isoLanguage } from '../../src/stt/openai/index.js';
import type { SttEvent, SttStream } from '../../src/stt/stt.js';
import { type OpenAiSttFake, startOpenAiSttFake } from '../../src/testing/provider-fakes/openai-stt.js';
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

async function drain(stream: SttStream): Promise<SttEvent[]> {
  const events: SttEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

describeSttConformance('openai', async () => {
  const fake = await startOpenAiSttFake();
  return {
    provider: createOpenAiStt({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 2000 }),
    sampleRates: [16000, 8000],
    streamsPartials: true,
    timeoutMs: 2000,
    utterance: async (rate) => ({ audio: tone(rate, 1200), text: 'Book a table for two.' }),
    maxUtteranceMs: 60_000,
    overLong: { outcome: 'finals' },
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

describe('OpenAI STT adapter details', () => {
  let fake: OpenAiSttFake;
  beforeAll(async () => {
    fake = await startOpenAiSttFake({ texts: ['Hello there, how are you?'] });
  });
  afterAll(() => fake.close());

  it('sends the utterance as a WAV in a multipart form and streams the reply as partials', async () => {
    const stt = createOpenAiStt({ apiKey: fake.apiKey, baseUrl: fake.url, prompt: 'Parley' });
    const stream = stt.stream({ sampleRate: 8000, language: 'en-US' }, never);
    pushFrames(stream, roomNoise(8000 * 0.5), 8000);
    pushFrames(stream, tone(8000, 1000), 8000);
    pushFrames(stream, roomNoise(8000 * 0.2), 8000);
    const closed = stream.close();
    const events = await drain(stream);
    await closed;
    expect(fake.requests.at(-1)).toMatchObject({
      authorization: `Bearer ${fake.apiKey}`,
      model: 'gpt-4o-mini-transcribe',
      language: 'en',
      responseFormat: 'json',
      stream: true,
      include: ['logprobs'],
      prompt: 'Parley',
      fileName: 'utterance.wav',
      fileType: 'audio/wav',
      sampleRate: 8000,
      channels: 1,
      durationMs: 1700,
    });
    expect(events.map((e) => (e.type === 'partial' ? e.text : e.type))).toEqual([
      'Hello',
      'Hello there,',
      'Hello there, how',
      'Hello there, how are',
      'Hello there, how are you?',
      'final',
    ]);
    // Offsets are the speech within the utterance; confidence from the token logprobs.
    expect(events.at(-1)).toMatchObject({
      type: 'final',
      text: 'Hello there, how are you?',
      startOffsetMs: 500,
      endOffsetMs: 1500,
      confidence: Math.round(Math.exp(-0.05) * 1000) / 1000,
    });
  });

  it('whisper-1 gets one JSON reply (no stream, no logprobs)', async () => {
    const stt = createOpenAiStt({ apiKey: fake.apiKey, baseUrl: fake.url });
    const stream = stt.stream({ sampleRate: 16000, language: 'de', model: 'whisper-1' }, never);
    pushFrames(stream, tone(16000, 400), 16000);
    stream.flush();
    const closed = stream.close();
    const events = await drain(stream);
    await closed;
    expect(fake.requests.at(-1)).toMatchObject({
      model: 'whisper-1',
      stream: false,
      include: [],
      language: 'de',
    });
    expect(events).toEqual([
      {
        type: 'final',
        text: 'Hello there, how are you?',
        startOffsetMs: 0,
        endOffsetMs: 400,
        timestampMs: expect.any(Number),
      },
    ]);
  });

  it('sends no request for silence or a too-short utterance, and cuts long speech at the cap', async () => {
    const stt = createOpenAiStt({ apiKey: fake.apiKey, baseUrl: fake.url, maxUtteranceMs: 1000 });
    const before = fake.requests.length;
    const stream = stt.stream({ sampleRate: 16000, language: 'en' }, never);
    pushFrames(stream, roomNoise(16000 * 3), 16000);
    stream.flush();
    pushFrames(stream, tone(16000, 60), 16000);
    stream.flush();
    stream.flush();
    expect(fake.requests.length).toBe(before);
    // 2.5 s of speech with a 1 s cap: three requests.
    pushFrames(stream, tone(16000, 2500), 16000);
    const closed = stream.close();
    const finals = (await drain(stream)).filter((e) => e.type === 'final');
    await closed;
    expect(fake.requests.length).toBe(before + 3);
    expect(fake.requests.slice(before).map((r) => r.durationMs)).toEqual([1000, 1000, 500]);
    expect(finals.map((f) => (f.type === 'final' ? [f.startOffsetMs, f.endOffsetMs] : []))).toEqual([
      [3060, 4060],
      [4060, 5060],
      [5060, 5560],
    ]);
  });

  it('abort during a request cancels it and ends the stream quietly', async () => {
    const stt = createOpenAiStt({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 60_000 });
    const controller = new AbortController();
    const stream = stt.stream({ sampleRate: 16000, language: 'en' }, controller.signal);
    fake.failNext('stall');
    const received = fake.received;
    pushFrames(stream, tone(16000, 500), 16000);
    stream.flush();
    await vi.waitFor(() => expect(fake.received).toBe(received + 1));
    controller.abort();
    expect(await drain(stream)).toEqual([]);
    await stream.close();
  });

  it('an out-of-credit 429 is not retryable; no key at all is unauthorized', async () => {
    const noKey = createOpenAiStt({ baseUrl: fake.url }).stream({ sampleRate: 16000, language: 'en' }, never);
    expect(await drain(noKey)).toMatchObject([
      { type: 'error', error: { code: 'unauthorized', retryable: false } },
    ]);
    const { httpError } = await import('../../src/stt/openai/errors.js');
    const quota = httpError(
      429,
      JSON.stringify({
        error: {
          message: 'You exceeded your current quota',
          type: 'insufficient_quota',
          code: 'insufficient_quota',
        },
      }),
      null,
    );
    expect(quota).toMatchObject({ code: 'quota_exceeded', retryable: false, type: 'stt_error' });
    expect(httpError(429, '{}', '3')).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(httpError(429, '{}', '3').message).toContain('retry after 3 s');
  });

  it('a reply that stops mid-stream times out (the deadline is per chunk), JSON or SSE', async () => {
    for (const model of ['gpt-4o-mini-transcribe', 'whisper-1']) {
      const stt = createOpenAiStt({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 300 });
      const stream = stt.stream({ sampleRate: 16000, language: 'en', model }, never);
      fake.failNext('stallMidStream');
      pushFrames(stream, tone(16000, 500), 16000);
      stream.flush();
      const events = await drain(stream);
      expect(events.at(-1), model).toMatchObject({
        type: 'error',
        error: { code: 'timeout', retryable: true },
      });
      // The streamed model had already produced a partial.
      expect(events.filter((e) => e.type === 'partial').length).toBe(model === 'whisper-1' ? 0 : 1);
    }
  });

  it('maps the language to ISO-639-1', () => {
    expect(isoLanguage('en-US')).toBe('en');
    expect(isoLanguage('pt_BR')).toBe('pt');
    expect(isoLanguage('fr')).toBe('fr');
    expect(isoLanguage('klingon')).toBeUndefined();
  });
});
