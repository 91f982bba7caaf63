import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { guardedFetch, type ProviderCredentials } from '../../shared/provider-credentials.js';
import { AiSdkLlm, defaultLlmTimeoutMs } from '../ai-sdk/ai-sdk-llm.js';
import type { LlmProvider } from '../llm.js';

export interface GeminiLlmOptions extends ProviderCredentials {
  /** Longest silence from the server before a retryable `timeout` (ms). */
  timeoutMs?: number;
}

export const defaultGeminiLlmOptions = {
  baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  timeoutMs: defaultLlmTimeoutMs,
} as const satisfies GeminiLlmOptions;

/**
 * Google Gemini (Generative Language API, `POST {baseUrl}/models/{model}:streamGenerateContent
 * ?alt=sse`) through `@ai-sdk/google`. Without `apiKey` the SDK reads
 * `GOOGLE_GENERATIVE_AI_API_KEY`.
 */
export function createGeminiLlm(options: GeminiLlmOptions = {}): LlmProvider {
  const google = createGoogleGenerativeAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl ?? defaultGeminiLlmOptions.baseUrl,
    fetch: guardedFetch(options.guard),
  });
  return new AiSdkLlm({
    name: 'gemini',
    model: (id) => google(id),
    timeoutMs: options.timeoutMs ?? defaultGeminiLlmOptions.timeoutMs,
  });
}
