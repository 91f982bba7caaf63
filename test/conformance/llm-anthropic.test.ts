import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicLlm } from '../../src/llm/anthropic/index.js';
import type { ChatMessage } from '../../src/llm/llm.js';
import { type LlmFake, startAnthropicFake } from '../../src/testing/provider-fakes/anthropic.js';
import { collectLlm, describeLlmConformance, fakeLlmTarget } from './llm-conformance.js';

describeLlmConformance('anthropic (Messages fake)', async () => {
  const fake = await startAnthropicFake();
  // Short enough for the stall case, long enough for a cold first request on a busy machine.
  const timeoutMs = 2500;
  return fakeLlmTarget(fake, {
    provider: createAnthropicLlm({ apiKey: fake.apiKey, baseUrl: fake.baseUrl, timeoutMs }),
    model: 'claude-haiku-4-5',
    timeoutMs,
    // Anthropic's "overloaded" is its usual 5xx, before and during a stream.
    serverError: () => fake.failWithStatus(529),
    midStreamErrorStatus: 529,
    contextLengthExceeded: () =>
      fake.failWithStatus(400, { message: 'prompt is too long: 250123 tokens > 200000 maximum' }),
  });
});

describe('anthropic adapter on the wire', () => {
  let fake: LlmFake;
  beforeAll(async () => {
    fake = await startAnthropicFake();
  });
  afterAll(() => fake.close());
  const llm = () => createAnthropicLlm({ apiKey: fake.apiKey, baseUrl: fake.baseUrl });
  const hello: ChatMessage[] = [{ role: 'user', content: 'Hello' }];

  it('posts to /v1/messages with x-api-key and anthropic-version, streaming', async () => {
    const { error } = await collectLlm(llm(), { model: 'claude-haiku-4-5', messages: hello });
    expect(error).toBeUndefined();
    const seen = fake.requests.at(-1)!;
    expect(seen.path).toBe('/v1/messages');
    expect(seen.headers['x-api-key']).toBe(fake.apiKey);
    expect(seen.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(seen.body).toMatchObject({ model: 'claude-haiku-4-5', stream: true });
    expect((seen.body as { max_tokens?: unknown }).max_tokens).toBeGreaterThan(0);
  });

  it('a wrong key is refused (authentication_error): non-retryable unauthorized', async () => {
    const wrong = createAnthropicLlm({ apiKey: 'sk-ant-wrong', baseUrl: fake.baseUrl });
    const { error } = await collectLlm(wrong, { model: 'claude-haiku-4-5', messages: hello });
    expect(error).toMatchObject({
      type: 'llm_error',
      code: 'unauthorized',
      retryable: false,
      provider: 'anthropic',
    });
  });

  it('sends tool calls as tool_use blocks and all their results in one user message', async () => {
    const { error } = await collectLlm(llm(), {
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking.',
          toolCalls: [
            { id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } },
            { id: 'toolu_2', name: 'get_weather', arguments: { city: 'Rome' } },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_1', name: 'get_weather', content: 'sunny' },
        { role: 'tool', toolCallId: 'toolu_2', name: 'get_weather', content: 'rain' },
        // A system note later in the call: Anthropic has no system role in messages.
        { role: 'system', content: 'Keep it short.' },
      ],
    });
    expect(error).toBeUndefined();
    const body = fake.requests.at(-1)!.body as { messages: unknown[]; system: unknown };
    expect(fake.requests.at(-1)!.observed.system).toBe('Be brief.\n\nKeep it short.');
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'rain' },
        ],
      },
    ]);
  });

  it('an overloaded (529) answer before the stream is a retryable server_error', async () => {
    fake.failWithStatus(529);
    const { error } = await collectLlm(llm(), { model: 'claude-haiku-4-5', messages: hello });
    expect(error).toMatchObject({ code: 'server_error', retryable: true });
    expect((error as Error).message).toContain('Overloaded');
  });
});
