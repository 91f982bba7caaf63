export {
  createElevenLabsTts,
  defaultElevenLabsTtsOptions,
  ElevenLabsTts,
  type ElevenLabsTtsOptions,
  elevenLabsSpeedRange,
} from './elevenlabs-tts.js';
