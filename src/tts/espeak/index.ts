export { createEspeakTts, EspeakTts, type EspeakTtsOptions } from './espeak-tts.js';
