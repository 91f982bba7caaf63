export { createFliteTts, FliteTts, type FliteTtsOptions } from './flite-tts.js';
