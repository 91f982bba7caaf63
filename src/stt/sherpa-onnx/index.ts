export { detectSttModel, type SttModelKind, type SttModelLayout } from './model-layout.js';
export {
  createSherpaOnnxStt,
  defaultSherpaOnnxSttOptions,
  type LoadedSttModel,
  SherpaOnnxStt,
  type SherpaOnnxSttOptions,
} from './sherpa-onnx-stt.js';
