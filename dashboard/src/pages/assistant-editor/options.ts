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

/** The speech providers the server ships (README "## Providers"); the API accepts any name. */
export const STT_PROVIDERS = ['pocketsphinx', 'deepgram', 'openai', 'sherpa-onnx'] as const;
export const TTS_PROVIDERS = [
  'flite',
  'espeak-ng',
  'elevenlabs',
  'openai',
  'deepgram',
  'cartesia',
  'sherpa-onnx',
] as const;
export const RUBRICS = ['pass-fail', 'numeric-1-10', 'descriptive-scale'] as const;
