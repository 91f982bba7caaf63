export {
  createOpenAiTts,
  defaultOpenAiTtsOptions,
  OPENAI_TTS_PCM_RATE,
  OpenAiTts,
  type OpenAiTtsOptions,
} from './openai-tts.js';
