import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeepgramTtsFake } from '../../src/testing/provider-fakes/deepgram-tts.js';
import { fakeTtsPcm, type PcmTtsFake } from '../../src/testing/provider-fakes/pcm-tts-fake.js';
import { createDeepgramTts } from '../../src/tts/deepgram/index.js';
import { describeTtsConformance } from './tts-conformance.js';

describeTtsConformance('deepgram', async () => {
  const fake = await startDeepgramTtsFake();
  return {
    provider: createDeepgramTts({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 1000 }),
    sampleRates: [8000, 16000],
    expectedAudio: (text, rate, speed) => fakeTtsPcm(text, rate, speed),
    overLongText: { text: 'a'.repeat(2001), expect: 'text_too_long' },
    faults: fake,
    requestCount: fake.requestCount,
    activeRequests: fake.activeRequests,
    close: fake.close,
  };
});

describe('deepgram aura wire protocol', () => {
  let fake: PcmTtsFake;
  beforeAll(async () => {
    fake = await startDeepgramTtsFake();
  });
  afterAll(() => fake.close());
  const never = new AbortController().signal;

  it('posts {text} to /v1/speak with model, linear16, the rate, no container and Token auth', async () => {
    const tts = createDeepgramTts({ apiKey: fake.apiKey, baseUrl: fake.url });
    for await (const _ of tts.synthesize('Hi there.', { sampleRate: 8000 }, never)) {
      // drain
    }
    const r = fake.requests.at(-1)!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/v1/speak');
    expect(r.query).toEqual({
      model: 'aura-2-thalia-en',
      encoding: 'linear16',
      sample_rate: '8000',
      container: 'none',
    });
    expect(r.headers.authorization).toBe(`Token ${fake.apiKey}`);
    expect(r.body).toEqual({ text: 'Hi there.' });

    for await (const _ of tts.synthesize(
      'Hi.',
      { sampleRate: 16000, voice: 'aura-2-zeus-en', speed: 1.3 },
      never,
    )) {
      // drain
    }
    expect(fake.requests.at(-1)?.query).toEqual({
      model: 'aura-2-zeus-en',
      encoding: 'linear16',
      sample_rate: '16000',
      container: 'none',
      speed: '1.3',
    });
  });

  it('a wrong key is unauthorized with Deepgram err_code/err_msg in the message', async () => {
    const tts = createDeepgramTts({ apiKey: 'wrong', baseUrl: fake.url });
    const run = async () => {
      for await (const _ of tts.synthesize('Hi.', { sampleRate: 16000 }, never)) {
        // drain
      }
    };
    await expect(run()).rejects.toMatchObject({
      code: 'unauthorized',
      retryable: false,
      message: expect.stringContaining('INVALID_AUTH: Invalid credentials.'),
    });
  });
});
