export { AiSdkLlm, type AiSdkLlmOptions, defaultLlmTimeoutMs } from './ai-sdk-llm.js';
export { toLlmProviderError } from './errors.js';
export { toModelMessages, toToolSet } from './messages.js';
