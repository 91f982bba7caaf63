export {
  createOpenAiCompatibleLlm,
  defaultOpenAiCompatibleLlmOptions,
  type OpenAiCompatibleLlmOptions,
} from './openai-compatible-llm.js';
