import { existsSync } from 'node:fs';
import type { AssistantSpec } from '../contract/assistant-schema.js';
import { createAnthropicLlm } from '../llm/anthropic/index.js';
import { createGeminiLlm } from '../llm/gemini/index.js';
import type { LlmProvider } from '../llm/llm.js';
import { createLocalLlm } from '../llm/local/index.js';
import { createOpenAiLlm } from '../llm/openai/index.js';
import { createOpenAiCompatibleLlm } from '../llm/openai-compatible/index.js';
import { createDeepgramStt } from '../stt/deepgram/index.js';
import { createOpenAiStt } from '../stt/openai/index.js';
import { createSherpaOnnxStt } from '../stt/sherpa-onnx/index.js';
import type { SttProvider } from '../stt/stt.js';
import type { CredentialLookup, CredentialProvider } from '../tenancy/provider-credentials.js';
import { createCartesiaTts } from '../tts/cartesia/index.js';
import { createDeepgramTts } from '../tts/deepgram/index.js';
import { createElevenLabsTts } from '../tts/elevenlabs/index.js';
import { createOpenAiTts } from '../tts/openai/index.js';
import { createSherpaOnnxTts } from '../tts/sherpa-onnx/index.js';
import type { TtsProvider } from '../tts/tts.js';

const SYSTEM_ESPEAK_DATA = '/usr/lib/x86_64-linux-gnu/espeak-ng-data';

/** What a provider factory may use: the team's credentials and the operator's models directory. */
export interface ProviderContext {
  credentials: CredentialLookup;
  /** Operator-supplied model files (GGUF, sherpa-onnx); assistants name files inside it. */
  modelsDir: string;
  /** The local GGUF LLM's CPU threads (0: node-llama-cpp's choice) and context window. */
  localLlm?: { threads: number; contextSize: number };
}

export interface ProviderEntry<P> {
  /** The credential it needs; a provider without one needs no key (local models). */
  credential?: CredentialProvider;
  /** Whether it works without an API key (a self-hosted server behind a base URL). */
  keyOptional?: boolean;
  create(ctx: ProviderContext, assistant: AssistantSpec): P;
}

/** Providers that hold loaded models are created once per models directory and shared. */
function shared<P>(create: (ctx: ProviderContext) => P): (ctx: ProviderContext) => P {
  const made = new Map<string, P>();
  return (ctx) => {
    let provider = made.get(ctx.modelsDir);
    if (!provider) {
      provider = create(ctx);
      made.set(ctx.modelsDir, provider);
    }
    return provider;
  };
}

/**
 * Every provider beyond the offline defaults (scripted LLM, pocketsphinx, flite, espeak-ng,
 * which `createLocalProviders` probes at start). A new provider is one folder plus one line here.
 */
export const llmRegistry: Record<string, ProviderEntry<LlmProvider>> = {
  openai: { credential: 'openai', create: (c) => createOpenAiLlm(c.credentials('openai')) },
  anthropic: { credential: 'anthropic', create: (c) => createAnthropicLlm(c.credentials('anthropic')) },
  gemini: { credential: 'gemini', create: (c) => createGeminiLlm(c.credentials('gemini')) },
  'openai-compatible': {
    credential: 'openai-compatible',
    keyOptional: true,
    create: (c) => createOpenAiCompatibleLlm(c.credentials('openai-compatible')),
  },
  local: {
    create: shared(({ modelsDir, localLlm }) =>
      createLocalLlm({
        modelsDir,
        ...(localLlm ? { threads: localLlm.threads, contextSize: localLlm.contextSize } : {}),
      }),
    ),
  },
};

export const sttRegistry: Record<string, ProviderEntry<SttProvider>> = {
  deepgram: { credential: 'deepgram', create: (c) => createDeepgramStt(c.credentials('deepgram')) },
  openai: { credential: 'openai', create: (c) => createOpenAiStt(c.credentials('openai')) },
  'sherpa-onnx': { create: shared(({ modelsDir }) => createSherpaOnnxStt({ modelsDir })) },
};

export const ttsRegistry: Record<string, ProviderEntry<TtsProvider>> = {
  elevenlabs: { credential: 'elevenlabs', create: (c) => createElevenLabsTts(c.credentials('elevenlabs')) },
  openai: { credential: 'openai', create: (c) => createOpenAiTts(c.credentials('openai')) },
  deepgram: { credential: 'deepgram', create: (c) => createDeepgramTts(c.credentials('deepgram')) },
  cartesia: { credential: 'cartesia', create: (c) => createCartesiaTts(c.credentials('cartesia')) },
  'sherpa-onnx': {
    // Piper and Kokoro voices without their own `espeak-ng-data/` use the system's (Debian's espeak-ng).
    create: shared(({ modelsDir }) =>
      createSherpaOnnxTts({
        modelsDir,
        ...(existsSync(SYSTEM_ESPEAK_DATA) ? { espeakDataDir: SYSTEM_ESPEAK_DATA } : {}),
      }),
    ),
  },
};
