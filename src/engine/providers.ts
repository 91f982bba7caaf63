import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { ChatMessage, LlmProvider } from '../llm/llm.js';
import type { ProviderError } from '../shared/provider-error.js';
import type { SttProvider } from '../stt/stt.js';
import type { TtsProvider } from '../tts/tts.js';
import type { Vad, VadOptions } from '../vad/vad.js';

/**
 * Where a call gets its providers. Each method may throw `ProviderError` when the assistant
 * names a provider this deployment does not have. `report` receives errors the call should
 * show as `error` events without failing (a primary provider failed and its fallback took over).
 */
export interface EngineProviders {
  llm(assistant: AssistantSpec, report?: (error: ProviderError) => void): LlmProvider;
  stt(assistant: AssistantSpec, report?: (error: ProviderError) => void): SttProvider;
  tts(assistant: AssistantSpec, report?: (error: ProviderError) => void): TtsProvider;
  /** May be async (a WASM module loading); frames that arrive before it is ready are not analysed. */
  vad(options: VadOptions): Vad | Promise<Vad>;
}

/** Timing of turn-taking and end conditions (ms). */
export interface EngineTiming {
  /** `hang` when no reply has started this long after the user finished. */
  hangAfterMs: number;
  /** Caller speech needed before it interrupts the assistant (a cough does not). */
  interruptMinSpeechMs: number;
  /** A message whose last mark is not acked this long after its last frame counts as played. */
  playoutGraceMs: number;
  /** Longest wait for a goodbye message to play before hanging up. */
  goodbyeTimeoutMs: number;
}

export const defaultTiming: EngineTiming = {
  hangAfterMs: 5000,
  interruptMinSpeechMs: 400,
  playoutGraceMs: 2000,
  goodbyeTimeoutMs: 15_000,
};

/** A provider that can restrict recognition to the replies it expects next (scripted dialogs). */
export interface PhraseHints {
  expectedPhrases(messages: readonly ChatMessage[]): readonly string[] | undefined;
}

export function hasPhraseHints(llm: LlmProvider): llm is LlmProvider & PhraseHints {
  return typeof (llm as Partial<PhraseHints>).expectedPhrases === 'function';
}
