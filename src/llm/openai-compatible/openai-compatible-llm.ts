import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { guardedFetch, type ProviderCredentials } from '../../shared/provider-credentials.js';
import { ProviderError } from '../../shared/provider-error.js';
import { AiSdkLlm, defaultLlmTimeoutMs } from '../ai-sdk/ai-sdk-llm.js';
import type { LlmProvider } from '../llm.js';

export interface OpenAiCompatibleLlmOptions extends ProviderCredentials {
  /** Required: the server's OpenAI-style base, e.g. `http://127.0.0.1:11434/v1` (Ollama). */
  baseUrl?: string;
  /** Provider name in errors and logs (e.g. `ollama`, `groq`). Default `openai-compatible`. */
  name?: string;
  /** Longest silence from the server before a retryable `timeout` (ms). */
  timeoutMs?: number;
}

export const defaultOpenAiCompatibleLlmOptions = {
  name: 'openai-compatible',
  timeoutMs: defaultLlmTimeoutMs,
} as const satisfies OpenAiCompatibleLlmOptions;

/**
 * Any server speaking OpenAI Chat Completions (Ollama, vLLM, llama.cpp server, LM Studio,
 * Groq, Together, OpenRouter…) through `@ai-sdk/openai-compatible`. `apiKey` is optional
 * (local servers need none); usage is requested with `stream_options.include_usage`.
 */
export function createOpenAiCompatibleLlm(options: OpenAiCompatibleLlmOptions): LlmProvider {
  const name = options.name ?? defaultOpenAiCompatibleLlmOptions.name;
  let baseURL: string;
  try {
    const url = new URL(options.baseUrl ?? '');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    baseURL = url.toString().replace(/\/+$/, '');
  } catch {
    throw new ProviderError({
      type: 'llm_error',
      code: 'invalid_config',
      message: `${name}: an OpenAI-compatible provider needs baseUrl, an http(s) URL such as http://127.0.0.1:11434/v1`,
      provider: name,
      retryable: false,
    });
  }
  const provider = createOpenAICompatible({
    name,
    baseURL,
    apiKey: options.apiKey,
    includeUsage: true,
    fetch: guardedFetch(options.guard),
  });
  return new AiSdkLlm({
    name,
    model: (id) => provider.chatModel(id),
    timeoutMs: options.timeoutMs ?? defaultOpenAiCompatibleLlmOptions.timeoutMs,
  });
}
