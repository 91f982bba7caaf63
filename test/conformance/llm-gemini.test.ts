import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGeminiLlm } from '../../src/llm/gemini/index.js';
import type { ChatMessage } from '../../src/llm/llm.js';
import { type LlmFake, startGeminiFake } from '../../src/testing/provider-fakes/gemini.js';
import { collectLlm, describeLlmConformance, fakeLlmTarget } from './llm-conformance.js';

describeLlmConformance('gemini (Generative Language fake)', async () => {
  const fake = await startGeminiFake();
  // Short enough for the stall case, long enough for a cold first request on a busy machine.
  const timeoutMs = 2500;
  return fakeLlmTarget(fake, {
    provider: createGeminiLlm({ apiKey: fake.apiKey, baseUrl: fake.baseUrl, timeoutMs }),
    model: 'gemini-2.5-flash',
    timeoutMs,
    serverError: () => fake.failWithStatus(503),
    midStreamErrorStatus: 503,
    // What Google really answers to a wrong key (HTTP 400, API_KEY_INVALID).
    unauthorized: () => fake.failWithStatus(400, { code: 'API_KEY_INVALID' }),
    contextLengthExceeded: () =>
      fake.failWithStatus(400, {
        message: 'The input token count (1262145) exceeds the maximum number of tokens allowed (1048576).',
      }),
  });
});

describe('gemini adapter on the wire', () => {
  let fake: LlmFake;
  beforeAll(async () => {
    fake = await startGeminiFake();
  });
  afterAll(() => fake.close());
  const llm = () => createGeminiLlm({ apiKey: fake.apiKey, baseUrl: fake.baseUrl });
  const hello: ChatMessage[] = [{ role: 'user', content: 'Hello' }];

  it('posts to models/{model}:streamGenerateContent?alt=sse with x-goog-api-key', async () => {
    const { error } = await collectLlm(llm(), { model: 'gemini-2.5-flash', messages: hello });
    expect(error).toBeUndefined();
    const seen = fake.requests.at(-1)!;
    expect(seen.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(seen.headers['x-goog-api-key']).toBe(fake.apiKey);
  });

  it("a wrong key (Google's 400 API_KEY_INVALID) is a non-retryable unauthorized", async () => {
    const wrong = createGeminiLlm({ apiKey: 'AIza-wrong', baseUrl: fake.baseUrl });
    const { error } = await collectLlm(wrong, { model: 'gemini-2.5-flash', messages: hello });
    expect(error).toMatchObject({
      type: 'llm_error',
      code: 'unauthorized',
      retryable: false,
      provider: 'gemini',
    });
  });

  it('sends tool calls as functionCall parts, results as functionResponse, system notes as systemInstruction', async () => {
    const { error } = await collectLlm(llm(), {
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'c1', name: 'get_weather', arguments: { city: 'Paris' } }],
        },
        { role: 'tool', toolCallId: 'c1', name: 'get_weather', content: 'sunny' },
        // Gemini refuses system messages after the start: they join systemInstruction.
        { role: 'system', content: 'Keep it short.' },
      ],
    });
    expect(error).toBeUndefined();
    const body = fake.requests.at(-1)!.body as { contents: unknown[]; systemInstruction: unknown };
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.\n\nKeep it short.' }] });
    expect(body.contents).toMatchObject([
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather' } }] },
    ]);
  });

  it('quota exhaustion (429 RESOURCE_EXHAUSTED) is a retryable rate_limited', async () => {
    fake.failWithStatus(429);
    const { error } = await collectLlm(llm(), { model: 'gemini-2.5-flash', messages: hello });
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true });
  });
});
