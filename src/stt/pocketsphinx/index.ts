export {
  createPocketsphinxStt,
  DEFAULT_MODEL_DIR,
  PocketsphinxStt,
  type PocketsphinxSttOptions,
} from './pocketsphinx-stt.js';
