/**
 * Every LLM, STT and TTS provider, cloud and offline, one line each, keyed by the name an
 * assistant uses. A new provider is one folder plus one line here. Three kinds:
 * - cloud: `credential` names the key it needs (a team's own, or the environment's);
 * - model files: no key, built from the operator's models directory (`local` LLM, sherpa-onnx);
 * - built in (`builtIn`): the offline defaults an offline deployment has without configuration
 *   (the scripted LLM, pocketsphinx, flite, espeak-ng); those with a `probe` are probed once at
 *   start (local-providers.ts) and a failed probe makes them unavailable, with its reason.
 */
import { existsSync } from 'node:fs';
import type { AssistantSpec } from '../contract/assistant-schema.js';
import { createAnthropicLlm } from '../llm/anthropic/index.js';
import { createGeminiLlm } from '../llm/gemini/index.js';
import type { LlmProvider } from '../llm/llm.js';
import { createLocalLlm } from '../llm/local/index.js';
import { createOpenAiLlm } from '../llm/openai/index.js';
import { createOpenAiCompatibleLlm } from '../llm/openai-compatible/index.js';
import type { Dialog } from '../llm/scripted/dialog.js';
import { ScriptedLlm } from '../llm/scripted/scripted-llm.js';
import { createDeepgramStt } from '../stt/deepgram/index.js';
import { createOpenAiStt } from '../stt/openai/index.js';
import { createPocketsphinxStt } from '../stt/pocketsphinx/index.js';
import { createSherpaOnnxStt } from '../stt/sherpa-onnx/index.js';
import type { SttProvider } from '../stt/stt.js';
import { createCartesiaTts } from '../tts/cartesia/index.js';
import { createDeepgramTts } from '../tts/deepgram/index.js';
import { createElevenLabsTts } from '../tts/elevenlabs/index.js';
import { createEspeakTts } from '../tts/espeak/index.js';
import { createFliteTts } from '../tts/flite/index.js';
import { createOpenAiTts } from '../tts/openai/index.js';
import { createSherpaOnnxTts } from '../tts/sherpa-onnx/index.js';
import type { TtsProvider } from '../tts/tts.js';
import type { CredentialLookup, CredentialProvider } from './credential-lookup.js';

const SYSTEM_ESPEAK_DATA = '/usr/lib/x86_64-linux-gnu/espeak-ng-data';

/** What a provider factory may use. */
export interface ProviderContext {
  /** The team's credentials (with the environment's behind them). */
  credentials: CredentialLookup;
  /** Operator-supplied model files (GGUF, sherpa-onnx); assistants name files inside it. */
  modelsDir: string;
  /** The local GGUF LLM's CPU threads (0: node-llama-cpp's choice) and context window. */
  localLlm?: { threads: number; contextSize: number };
  /** The instance a probed built-in provider made at start; throws its probe's failure. */
  probed<P>(entry: ProviderEntry<P>): P;
}

export interface ProviderEntry<P> {
  /** The credential it needs; a provider without one needs no key (local models, built in). */
  credential?: CredentialProvider;
  /** Whether it works without an API key (a self-hosted server behind a base URL). */
  keyOptional?: boolean;
  /** Built into the server: available in an offline deployment without configuration. */
  builtIn?: boolean;
  /** Makes the one shared instance, once at start (built-in providers that load a WASM module). */
  probe?: () => Promise<P>;
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

/** A built-in provider probed once at start; every call shares the instance. */
function probed<P>(probe: () => Promise<P>): ProviderEntry<P> {
  const entry: ProviderEntry<P> = { builtIn: true, probe, create: (ctx) => ctx.probed(entry) };
  return entry;
}

/** espeak-ng answers to both names. */
const espeak = probed(createEspeakTts);

export const llmRegistry: Readonly<Record<string, ProviderEntry<LlmProvider>>> = {
  scripted: {
    builtIn: true,
    create: (_c, assistant) => new ScriptedLlm(assistant.dialog as unknown as Dialog),
  },
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

export const sttRegistry: Readonly<Record<string, ProviderEntry<SttProvider>>> = {
  pocketsphinx: probed(createPocketsphinxStt),
  deepgram: { credential: 'deepgram', create: (c) => createDeepgramStt(c.credentials('deepgram')) },
  openai: { credential: 'openai', create: (c) => createOpenAiStt(c.credentials('openai')) },
  'sherpa-onnx': { create: shared(({ modelsDir }) => createSherpaOnnxStt({ modelsDir })) },
};

export const ttsRegistry: Readonly<Record<string, ProviderEntry<TtsProvider>>> = {
  flite: probed(createFliteTts),
  espeak,
  'espeak-ng': espeak,
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
