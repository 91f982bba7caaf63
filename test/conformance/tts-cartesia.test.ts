import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCartesiaFake } from '../../src/testing/provider-fakes/cartesia.js';
import { fakeTtsPcm, type PcmTtsFake } from '../../src/testing/provider-fakes/pcm-tts-fake.js';
import { createCartesiaTts, defaultCartesiaTtsOptions } from '../../src/tts/cartesia/index.js';
import { describeTtsConformance } from './tts-conformance.js';

describeTtsConformance('cartesia', async () => {
  const fake = await startCartesiaFake();
  return {
    provider: createCartesiaTts({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 1000 }),
    sampleRates: [8000, 16000],
    expectedAudio: (text, rate, speed) => fakeTtsPcm(text, rate, speed),
    overLongText: { text: 'a'.repeat(5001), expect: 'text_too_long' },
    faults: fake,
    requestCount: fake.requestCount,
    activeRequests: fake.activeRequests,
    close: fake.close,
  };
});

describe('cartesia wire protocol', () => {
  let fake: PcmTtsFake;
  beforeAll(async () => {
    fake = await startCartesiaFake();
  });
  afterAll(() => fake.close());
  const never = new AbortController().signal;
  const drain = async (chunks: AsyncIterable<Int16Array>) => {
    for await (const _ of chunks) {
      // drain
    }
  };

  it('posts transcript, voice, raw pcm_s16le format with X-API-Key and Cartesia-Version', async () => {
    const tts = createCartesiaTts({ apiKey: fake.apiKey, baseUrl: fake.url });
    await drain(tts.synthesize('Hi there.', { sampleRate: 8000 }, never));
    const r = fake.requests.at(-1)!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/tts/bytes');
    expect(r.headers['x-api-key']).toBe(fake.apiKey);
    expect(r.headers['cartesia-version']).toBe('2025-04-16');
    expect(r.body).toEqual({
      model_id: 'sonic-2',
      transcript: 'Hi there.',
      voice: { mode: 'id', id: defaultCartesiaTtsOptions.voice },
      output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 8000 },
      language: 'en',
    });
  });

  it('speed: generation_config on Sonic 3, the experimental control on Sonic 2', async () => {
    const tts = createCartesiaTts({ apiKey: fake.apiKey, baseUrl: fake.url });
    await drain(tts.synthesize('Hi.', { sampleRate: 16000, model: 'sonic-3', speed: 1.3 }, never));
    expect(fake.requests.at(-1)?.body).toMatchObject({
      model_id: 'sonic-3',
      generation_config: { speed: 1.3 },
    });
    await drain(tts.synthesize('Hi.', { sampleRate: 16000, voice: 'v2', speed: 0.8 }, never));
    expect(fake.requests.at(-1)?.body).toMatchObject({
      voice: { mode: 'id', id: 'v2', __experimental_controls: { speed: -0.4 } },
    });
  });

  it('errors: plain "Title: Message" text before API 2026-03-01, structured JSON from it', async () => {
    const old = createCartesiaTts({ apiKey: 'wrong', baseUrl: fake.url });
    await expect(drain(old.synthesize('Hi.', { sampleRate: 16000 }, never))).rejects.toMatchObject({
      code: 'unauthorized',
      retryable: false,
      message: 'HTTP 401: Unauthorized: Invalid API key',
    });
    const current = createCartesiaTts({ apiKey: 'wrong', baseUrl: fake.url, apiVersion: '2026-03-01' });
    await expect(drain(current.synthesize('Hi.', { sampleRate: 16000 }, never))).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'HTTP 401: invalid_api_key: Unauthorized: Invalid API key',
    });
  });
});
