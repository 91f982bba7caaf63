/** Choices the editor offers (free text is still accepted where providers are pluggable). */
export const LLM_PROVIDERS = [
  'openai',
  'anthropic',
  'gemini',
  'openai-compatible',
  'local',
  'scripted',
] as const;

export const EVENT_TYPES = [
  'status-update',
  'conversation-update',
  'end-of-call-report',
  'hang',
  'error',
  'tool-calls',
  'assistant-request',
] as const;

export const STT_PROVIDERS = ['pocketsphinx', 'deepgram', 'openai', 'google', 'sherpa-onnx', 'whisper'];
export const TTS_PROVIDERS = ['flite', 'espeak', 'elevenlabs', 'openai', 'google', 'cartesia', 'sherpa-onnx'];
export const RUBRICS = ['pass-fail', 'numeric-1-10', 'descriptive-scale'] as const;
