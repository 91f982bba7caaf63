import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../../src/audio/resampler.js';
import { OPENAI_FAKE_PCM_RATE, startOpenAiTtsFake } from '../../src/testing/provider-fakes/openai-tts.js';
import { fakeTtsPcm, type PcmTtsFake } from '../../src/testing/provider-fakes/pcm-tts-fake.js';
import { createOpenAiTts } from '../../src/tts/openai/index.js';
import { describeTtsConformance } from './tts-conformance.js';

describeTtsConformance('openai', async () => {
  const fake = await startOpenAiTtsFake();
  return {
    provider: createOpenAiTts({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 1000 }),
    sampleRates: [8000, 16000],
    // Chunk-by-chunk resampling must give exactly what resampling the whole reply gives.
    expectedAudio: (text, rate, speed) =>
      resample(fakeTtsPcm(text, OPENAI_FAKE_PCM_RATE, speed), OPENAI_FAKE_PCM_RATE, rate),
    overLongText: { text: 'a'.repeat(4097), expect: 'text_too_long' },
    faults: fake,
    requestCount: fake.requestCount,
    activeRequests: fake.activeRequests,
    close: fake.close,
  };
});

describe('openai speech wire protocol', () => {
  let fake: PcmTtsFake;
  beforeAll(async () => {
    fake = await startOpenAiTtsFake();
  });
  afterAll(() => fake.close());
  const never = new AbortController().signal;

  it('posts model, input, voice, pcm format and speed with Bearer auth', async () => {
    const tts = createOpenAiTts({ apiKey: fake.apiKey, baseUrl: fake.url });
    for await (const _ of tts.synthesize(
      'Hi there.',
      { sampleRate: 8000, voice: 'nova', speed: 1.5 },
      never,
    )) {
      // drain
    }
    const r = fake.requests.at(-1)!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/v1/audio/speech');
    expect(r.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(r.body).toEqual({
      model: 'gpt-4o-mini-tts',
      input: 'Hi there.',
      voice: 'nova',
      response_format: 'pcm',
      speed: 1.5,
    });
  });

  it('a 400 is a non-retryable invalid_request carrying the error message', async () => {
    const tts = createOpenAiTts({ apiKey: fake.apiKey, baseUrl: fake.url });
    const run = async () => {
      for await (const _ of tts.synthesize('Hi.', { sampleRate: 16000, voice: 'nobody' }, never)) {
        // drain
      }
    };
    await expect(run()).rejects.toMatchObject({
      type: 'tts_error',
      code: 'invalid_request',
      retryable: false,
      message: expect.stringContaining("invalid_value: Invalid value for 'voice'"),
    });
  });
});
