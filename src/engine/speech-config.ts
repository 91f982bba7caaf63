/**
 * An assistant's speech settings with every default applied, resolved once per call: the
 * engine reads `speech.stt.provider`, never `config.speech?.stt?.provider ?? …` again. The
 * defaults are the `default` keywords of the contract's SpeechConfigSchema (a test holds them equal).
 */
import type { AssistantSpec } from '../contract/assistant-schema.js';

export interface ResolvedSpeechConfig {
  stt: { provider: string; language: string; endpointingMs: number; model?: string };
  tts: { provider: string; voice?: string; speed?: number; model?: string };
}

export const SPEECH_DEFAULTS = {
  sttProvider: 'pocketsphinx',
  language: 'en-US',
  endpointingMs: 500,
  ttsProvider: 'flite',
} as const;

export function resolveSpeechConfig(assistant: Pick<AssistantSpec, 'config'>): ResolvedSpeechConfig {
  const stt = assistant.config.speech?.stt;
  const tts = assistant.config.speech?.tts;
  return {
    stt: {
      provider: stt?.provider ?? SPEECH_DEFAULTS.sttProvider,
      language: stt?.language ?? SPEECH_DEFAULTS.language,
      endpointingMs: stt?.endpointingMs ?? SPEECH_DEFAULTS.endpointingMs,
      ...(stt?.model ? { model: stt.model } : {}),
    },
    tts: {
      provider: tts?.provider ?? SPEECH_DEFAULTS.ttsProvider,
      ...(tts?.voice ? { voice: tts.voice } : {}),
      ...(tts?.speed ? { speed: tts.speed } : {}),
      ...(tts?.model ? { model: tts.model } : {}),
    },
  };
}
