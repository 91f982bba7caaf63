import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/llm/llm.js';
import { createOpenAiLlm } from '../../src/llm/openai/index.js';
import { ProviderError } from '../../src/shared/provider-error.js';
import { type LlmFake, startOpenAiFake } from '../../src/testing/provider-fakes/openai.js';
import { collectLlm, describeLlmConformance, fakeLlmTarget } from './llm-conformance.js';

describeLlmConformance('openai (Chat Completions fake)', async () => {
  const fake = await startOpenAiFake();
  // Short enough for the stall case, long enough for a cold first request on a busy machine.
  const timeoutMs = 2500;
  return fakeLlmTarget(fake, {
    provider: createOpenAiLlm({ apiKey: fake.apiKey, baseUrl: fake.baseUrl, timeoutMs }),
    model: 'gpt-4o-mini',
    timeoutMs,
    contextLengthExceeded: () =>
      fake.failWithStatus(400, {
        code: 'context_length_exceeded',
        message: "This model's maximum context length is 128000 tokens.",
      }),
  });
});

describe('openai adapter on the wire', () => {
  let fake: LlmFake;
  beforeAll(async () => {
    fake = await startOpenAiFake();
  });
  afterAll(() => fake.close());
  const llm = () => createOpenAiLlm({ apiKey: fake.apiKey, baseUrl: fake.baseUrl });
  const hello: ChatMessage[] = [{ role: 'user', content: 'Hello' }];

  it('speaks Chat Completions with a Bearer key and asks for streamed usage', async () => {
    const { error } = await collectLlm(llm(), { model: 'gpt-4o-mini', messages: hello });
    expect(error).toBeUndefined();
    const seen = fake.requests.at(-1)!;
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(seen.body).toMatchObject({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('a wrong key is refused by the server: non-retryable unauthorized', async () => {
    const wrong = createOpenAiLlm({ apiKey: 'sk-wrong', baseUrl: fake.baseUrl });
    const { error } = await collectLlm(wrong, { model: 'gpt-4o-mini', messages: hello });
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      type: 'llm_error',
      code: 'unauthorized',
      retryable: false,
      provider: 'openai',
    });
    expect((error as Error).message).toContain('Incorrect API key');
  });

  it('sends the tool-call history: assistant tool_calls, then tool messages', async () => {
    const { error } = await collectLlm(llm(), {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [
            { id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } },
            { id: 'call_2', name: 'get_weather', arguments: { city: 'Rome' } },
          ],
        },
        { role: 'tool', toolCallId: 'call_1', name: 'get_weather', content: '{"sky":"sunny"}' },
        { role: 'tool', toolCallId: 'call_2', name: 'get_weather', content: 'rain' },
      ],
    });
    expect(error).toBeUndefined();
    const body = fake.requests.at(-1)!.body as { messages: unknown[] };
    expect(body.messages).toMatchObject([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"sunny"}' },
      { role: 'tool', tool_call_id: 'call_2', content: 'rain' },
    ]);
  });

  it('tells how long to wait when rate limited', async () => {
    fake.failWithStatus(429, { retryAfterSeconds: 7 });
    const { error } = await collectLlm(llm(), { model: 'gpt-4o-mini', messages: hello });
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true });
    expect((error as Error).message).toContain('retry after 7 s');
  });

  it('a stream that goes silent after its first piece is a retryable timeout', async () => {
    let release!: () => void;
    fake.reply({ text: ['Hello', ' never', ' comes'], holdAfterFirst: new Promise((r) => (release = r)) });
    try {
      const timeoutMs = 2500;
      const { chunks, error } = await collectLlm(
        createOpenAiLlm({ apiKey: fake.apiKey, baseUrl: fake.baseUrl, timeoutMs }),
        {
          model: 'gpt-4o-mini',
          messages: hello,
        },
      );
      expect(chunks).toEqual([{ type: 'text', text: 'Hello' }]);
      expect(error).toMatchObject({ type: 'llm_error', code: 'timeout', retryable: true });
      await expect(fake.requests.at(-1)!.ended).resolves.toBe('client-closed');
    } finally {
      release();
    }
  });

  it('closes the connection when the consumer stops reading early', async () => {
    fake.reply({ text: Array.from({ length: 100 }, (_, i) => `w${i} `), pieceDelayMs: 20 });
    for await (const chunk of llm().chat(
      { model: 'gpt-4o-mini', messages: hello },
      new AbortController().signal,
    )) {
      if (chunk.type === 'text') break;
    }
    await expect(fake.requests.at(-1)!.ended).resolves.toBe('client-closed');
  });

  it('without a key (none given, none in OPENAI_API_KEY): non-retryable unauthorized, no request', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const before = fake.requests.length;
      const { error } = await collectLlm(createOpenAiLlm({ baseUrl: fake.baseUrl }), {
        model: 'gpt-4o-mini',
        messages: hello,
      });
      expect(error).toMatchObject({ type: 'llm_error', code: 'unauthorized', retryable: false });
      expect(fake.requests.length).toBe(before);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it('an unreachable server is a retryable connection_lost', async () => {
    const gone = await startOpenAiFake();
    await gone.close();
    const { error } = await collectLlm(createOpenAiLlm({ apiKey: 'k', baseUrl: gone.baseUrl }), {
      model: 'gpt-4o-mini',
      messages: hello,
    });
    expect(error).toMatchObject({ type: 'llm_error', code: 'connection_lost', retryable: true });
  });
});
