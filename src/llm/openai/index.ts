export { createOpenAiLlm, defaultOpenAiLlmOptions, type OpenAiLlmOptions } from './openai-llm.js';
