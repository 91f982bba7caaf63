export {
  createSherpaOnnxTts,
  defaultSherpaOnnxTtsOptions,
  type LoadedTtsVoice,
  SherpaOnnxTts,
  type SherpaOnnxTtsOptions,
} from './sherpa-onnx-tts.js';
export { detectTtsVoice, type TtsVoiceKind, type TtsVoiceLayout } from './voice-layout.js';
