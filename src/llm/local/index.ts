export { createLocalLlm, defaultLocalLlmOptions, type LocalLlmOptions } from './local-llm.js';
export { unloadLocalModels } from './model-store.js';
