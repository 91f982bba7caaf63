import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/llm/llm.js';
import { createOpenAiCompatibleLlm } from '../../src/llm/openai-compatible/index.js';
import { ProviderError } from '../../src/shared/provider-error.js';
import { type LlmFake, startOpenAiFake } from '../../src/testing/provider-fakes/openai.js';
import { collectLlm, describeLlmConformance, fakeLlmTarget } from './llm-conformance.js';

// An OpenAI-compatible server under another base path (as a proxy, or Groq's `/openai/v1`).
describeLlmConformance('openai-compatible (Chat Completions fake under /openai/v1)', async () => {
  const fake = await startOpenAiFake({ basePath: '/openai/v1' });
  // Short enough for the stall case, long enough for a cold first request on a busy machine.
  const timeoutMs = 2500;
  return fakeLlmTarget(fake, {
    provider: createOpenAiCompatibleLlm({ apiKey: fake.apiKey, baseUrl: fake.baseUrl, timeoutMs }),
    model: 'llama-3.1-8b-instant',
    timeoutMs,
    serverError: () => fake.failWithStatus(503),
    contextLengthExceeded: () =>
      fake.failWithStatus(400, {
        code: 'context_length_exceeded',
        message: 'Please reduce the length of the messages or completion.',
      }),
  });
});

describe('openai-compatible adapter', () => {
  let local: LlmFake;
  beforeAll(async () => {
    // A local server (Ollama, llama.cpp server) that wants no key.
    local = await startOpenAiFake({ apiKey: null });
  });
  afterAll(() => local.close());
  const hello: ChatMessage[] = [{ role: 'user', content: 'Hello' }];

  it('refuses to be created without an http(s) baseUrl', () => {
    for (const baseUrl of [undefined, '', 'not a url', 'file:///etc/passwd']) {
      let error: unknown;
      try {
        createOpenAiCompatibleLlm({ baseUrl });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ code: 'invalid_config', retryable: false });
    }
  });

  it('works without a key, names itself as configured, and asks for usage', async () => {
    const llm = createOpenAiCompatibleLlm({ baseUrl: local.baseUrl, name: 'ollama' });
    expect(llm.name).toBe('ollama');
    local.reply({ text: ['Hi', ' there'], usage: { inputTokens: 3, outputTokens: 2 } });
    const { chunks, error } = await collectLlm(llm, { model: 'llama3.2', messages: hello });
    expect(error).toBeUndefined();
    expect(chunks).toEqual([
      { type: 'text', text: 'Hi' },
      { type: 'text', text: ' there' },
      { type: 'usage', inputTokens: 3, outputTokens: 2 },
    ]);
    const seen = local.requests.at(-1)!;
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('reports errors under its configured name', async () => {
    local.failWithStatus(503);
    const { error } = await collectLlm(createOpenAiCompatibleLlm({ baseUrl: local.baseUrl, name: 'vllm' }), {
      model: 'm',
      messages: hello,
    });
    expect(error).toMatchObject({ provider: 'vllm', code: 'server_error', retryable: true });
  });
});
