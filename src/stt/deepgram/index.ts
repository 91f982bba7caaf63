export { DeepgramStream } from './deepgram-stream.js';
export {
  createDeepgramStt,
  DeepgramStt,
  type DeepgramSttOptions,
  defaultDeepgramSttOptions,
  listenUrl,
} from './deepgram-stt.js';
