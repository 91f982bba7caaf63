export {
  createDeepgramTts,
  DeepgramTts,
  type DeepgramTtsOptions,
  deepgramSpeedRange,
  defaultDeepgramTtsOptions,
} from './deepgram-tts.js';
