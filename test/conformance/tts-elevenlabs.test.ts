import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/shared/provider-error.js';
import {
  fakeTtsPcm,
  type PcmTtsFake,
  startElevenLabsFake,
} from '../../src/testing/provider-fakes/elevenlabs.js';
import { createElevenLabsTts, defaultElevenLabsTtsOptions } from '../../src/tts/elevenlabs/index.js';
import { Pcm16Splitter } from '../../src/tts/http-pcm-stream.js';
import { describeTtsConformance } from './tts-conformance.js';

describeTtsConformance('elevenlabs', async () => {
  const fake = await startElevenLabsFake();
  return {
    provider: createElevenLabsTts({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 1000 }),
    sampleRates: [8000, 16000],
    expectedAudio: (text, rate, speed) => fakeTtsPcm(text, rate, speed),
    overLongText: { text: 'a'.repeat(5001), expect: 'text_too_long' },
    faults: fake,
    requestCount: fake.requestCount,
    activeRequests: fake.activeRequests,
    close: fake.close,
  };
});

describe('elevenlabs wire protocol', () => {
  let fake: PcmTtsFake;
  beforeAll(async () => {
    fake = await startElevenLabsFake();
  });
  afterAll(() => fake.close());
  const never = new AbortController().signal;

  it('posts text, model and speed to the voice stream path with the native PCM format', async () => {
    const tts = createElevenLabsTts({ apiKey: fake.apiKey, baseUrl: `${fake.url}/` });
    for await (const _ of tts.synthesize(
      'Hi there.',
      { sampleRate: 8000, voice: 'v/1', speed: 0.8 },
      never,
    )) {
      // drain
    }
    const r = fake.requests.at(-1)!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/v1/text-to-speech/v%2F1/stream');
    expect(r.query).toEqual({ output_format: 'pcm_8000' });
    expect(r.headers['xi-api-key']).toBe(fake.apiKey);
    expect(r.body).toEqual({
      text: 'Hi there.',
      model_id: 'eleven_flash_v2_5',
      voice_settings: { speed: 0.8 },
    });

    for await (const _ of tts.synthesize('Hi.', { sampleRate: 16000, model: 'eleven_turbo_v2_5' }, never)) {
      // drain
    }
    const r2 = fake.requests.at(-1)!;
    expect(r2.path).toBe(`/v1/text-to-speech/${defaultElevenLabsTtsOptions.voice}/stream`);
    expect(r2.query).toEqual({ output_format: 'pcm_16000' });
    expect(r2.body).toEqual({ text: 'Hi.', model_id: 'eleven_turbo_v2_5' });
  });

  it('a wrong key is unauthorized with the detail message; speed outside 0.7 … 1.2 is refused', async () => {
    const tts = createElevenLabsTts({ apiKey: 'wrong', baseUrl: fake.url });
    await expect(collectAll(tts.synthesize('Hi.', { sampleRate: 16000 }, never))).rejects.toMatchObject({
      code: 'unauthorized',
      retryable: false,
      message: expect.stringContaining('invalid_api_key: Invalid API key'),
    });
    const before = fake.requestCount();
    await expect(
      collectAll(tts.synthesize('Hi.', { sampleRate: 16000, speed: 2 }, never)),
    ).rejects.toMatchObject({
      code: 'invalid_speed',
      retryable: false,
    });
    expect(fake.requestCount()).toBe(before);
  });

  it('an unreachable server is a retryable connection_failed; an unsupported rate is refused', async () => {
    const closed = await startElevenLabsFake();
    await closed.close();
    const tts = createElevenLabsTts({ apiKey: closed.apiKey, baseUrl: closed.url });
    await expect(collectAll(tts.synthesize('Hi.', { sampleRate: 16000 }, never))).rejects.toMatchObject({
      type: 'tts_error',
      code: 'connection_failed',
      retryable: true,
    });
    const rate = 44100 as unknown as 16000;
    await expect(collectAll(tts.synthesize('Hi.', { sampleRate: rate }, never))).rejects.toMatchObject({
      code: 'invalid_sample_rate',
      retryable: false,
    });
  });

  it('429 keeps Retry-After in the message', async () => {
    fake.rateLimit(7);
    const tts = createElevenLabsTts({ apiKey: fake.apiKey, baseUrl: fake.url });
    await expect(collectAll(tts.synthesize('Hi.', { sampleRate: 16000 }, never))).rejects.toMatchObject({
      code: 'rate_limited',
      retryable: true,
      message: expect.stringMatching(/too_many_concurrent_requests.*retry after 7 s/),
    });
  });

  it('refuses to be created without a key', () => {
    expect(() => createElevenLabsTts({ baseUrl: fake.url })).toThrow(ProviderError);
  });
});

async function collectAll(chunks: AsyncIterable<Int16Array>): Promise<number> {
  let n = 0;
  for await (const c of chunks) n += c.length;
  return n;
}

describe('Pcm16Splitter', () => {
  it('gives the same samples for any byte split, 1-byte chunks included, never a half sample', () => {
    const samples = fakeTtsPcm('some text to split', 8000);
    const bytes = new Uint8Array(samples.buffer);
    let seed = 7;
    for (let round = 0; round < 20; round++) {
      const splitter = new Pcm16Splitter();
      const out: number[] = [];
      for (let at = 0; at < bytes.length; ) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const size = round === 0 ? 1 : seed % 9;
        for (const s of splitter.push(bytes.subarray(at, at + size))) out.push(s);
        at += size;
      }
      expect(splitter.pending).toBe(false);
      expect(Int16Array.from(out)).toEqual(samples);
    }
  });
});
