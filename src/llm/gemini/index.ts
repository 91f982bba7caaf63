export { createGeminiLlm, defaultGeminiLlmOptions, type GeminiLlmOptions } from './gemini-llm.js';
