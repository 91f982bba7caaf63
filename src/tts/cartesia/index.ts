export {
  CartesiaTts,
  type CartesiaTtsOptions,
  cartesiaSpeedRange,
  createCartesiaTts,
  defaultCartesiaTtsOptions,
} from './cartesia-tts.js';
