import { createOpenAI } from '@ai-sdk/openai';
import { guardedFetch, type ProviderCredentials } from '../../shared/provider-credentials.js';
import { AiSdkLlm, defaultLlmTimeoutMs } from '../ai-sdk/ai-sdk-llm.js';
import type { LlmProvider } from '../llm.js';

export interface OpenAiLlmOptions extends ProviderCredentials {
  /** Longest silence from the server before a retryable `timeout` (ms). */
  timeoutMs?: number;
}

export const defaultOpenAiLlmOptions = {
  baseUrl: 'https://api.openai.com/v1',
  timeoutMs: defaultLlmTimeoutMs,
} as const satisfies OpenAiLlmOptions;

/**
 * OpenAI through `@ai-sdk/openai`. Without `apiKey` the SDK reads `OPENAI_API_KEY`.
 *
 * Chat Completions (`openai.chat(model)`, `POST /v1/chat/completions`), not the Responses API
 * that `openai(model)` uses by default since @ai-sdk/openai v2: Parley keeps the whole history
 * itself and needs none of Responses' server-side state or built-in tools, Chat Completions is
 * the protocol every "OpenAI-compatible" server and proxy speaks (so one wire format and one
 * protocol fake cover `openai` and `openai-compatible`), and it streams usage in a final chunk.
 */
export function createOpenAiLlm(options: OpenAiLlmOptions = {}): LlmProvider {
  const openai = createOpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl ?? defaultOpenAiLlmOptions.baseUrl,
    fetch: guardedFetch(options.guard),
  });
  return new AiSdkLlm({
    name: 'openai',
    model: (id) => openai.chat(id),
    timeoutMs: options.timeoutMs ?? defaultOpenAiLlmOptions.timeoutMs,
  });
}
