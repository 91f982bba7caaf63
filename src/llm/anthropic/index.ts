export { type AnthropicLlmOptions, createAnthropicLlm, defaultAnthropicLlmOptions } from './anthropic-llm.js';
