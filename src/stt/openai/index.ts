export { OpenAiSttStream } from './openai-stream.js';
export {
  createOpenAiStt,
  defaultOpenAiSttOptions,
  isoLanguage,
  modelStreams,
  OpenAiStt,
  type OpenAiSttOptions,
} from './openai-stt.js';
