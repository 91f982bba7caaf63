import { createAnthropic } from '@ai-sdk/anthropic';
import { guardedFetch, type ProviderCredentials } from '../../shared/provider-credentials.js';
import { AiSdkLlm, defaultLlmTimeoutMs } from '../ai-sdk/ai-sdk-llm.js';
import type { LlmProvider } from '../llm.js';

export interface AnthropicLlmOptions extends ProviderCredentials {
  /** Longest silence from the server before a retryable `timeout` (ms). */
  timeoutMs?: number;
}

export const defaultAnthropicLlmOptions = {
  baseUrl: 'https://api.anthropic.com/v1',
  timeoutMs: defaultLlmTimeoutMs,
} as const satisfies AnthropicLlmOptions;

/**
 * Anthropic's Messages API (`POST {baseUrl}/messages`, streamed) through `@ai-sdk/anthropic`.
 * Without `apiKey` the SDK reads `ANTHROPIC_API_KEY`. A 529 "overloaded" is a retryable
 * `server_error`.
 */
export function createAnthropicLlm(options: AnthropicLlmOptions = {}): LlmProvider {
  const anthropic = createAnthropic({
    apiKey: options.apiKey,
    baseURL: options.baseUrl ?? defaultAnthropicLlmOptions.baseUrl,
    fetch: guardedFetch(options.guard),
  });
  return new AiSdkLlm({
    name: 'anthropic',
    model: (id) => anthropic(id),
    timeoutMs: options.timeoutMs ?? defaultAnthropicLlmOptions.timeoutMs,
  });
}
