import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { LlmProvider } from '../llm/llm.js';
import type { Dialog } from '../llm/scripted/dialog.js';
import { ScriptedLlm } from '../llm/scripted/scripted-llm.js';
import { ProviderError, type ProviderErrorType } from '../shared/provider-error.js';
import { createPocketsphinxStt } from '../stt/pocketsphinx/index.js';
import type { SttProvider } from '../stt/stt.js';
import { createEspeakTts } from '../tts/espeak/index.js';
import { createFliteTts } from '../tts/flite/index.js';
import type { TtsProvider } from '../tts/tts.js';
import type { VadOptions } from '../vad/vad.js';
import { createWebRtcVad } from '../vad/webrtc/index.js';
import type { EngineProviders } from './providers.js';

/**
 * The providers of an offline deployment: the `scripted` LLM, pocketsphinx STT, flite or
 * espeak-ng TTS, WebRTC VAD. Each is probed once at start; an assistant that names one that
 * is missing gets a `ProviderError` (an `error` event on its call), not a crash.
 */
export interface LocalProviders extends EngineProviders {
  /** What is available, and why not where it is not. */
  readonly status: Record<string, 'ok' | string>;
}

const unavailable = (type: ProviderErrorType, provider: string, why: string) =>
  new ProviderError({
    type,
    code: 'provider_unavailable',
    message: `${provider}: ${why}`,
    provider,
    retryable: false,
  });

export async function createLocalProviders(): Promise<LocalProviders> {
  const [stt, flite, espeak, vad] = await Promise.allSettled([
    createPocketsphinxStt(),
    createFliteTts(),
    createEspeakTts(),
    createWebRtcVad(),
  ]);
  const why = (r: PromiseSettledResult<unknown>) =>
    r.status === 'fulfilled' ? 'ok' : r.reason instanceof Error ? r.reason.message : String(r.reason);
  const status = { pocketsphinx: why(stt), flite: why(flite), espeak: why(espeak), webrtcVad: why(vad) };
  if (vad.status === 'fulfilled') vad.value.close();
  const tts: Record<string, PromiseSettledResult<TtsProvider>> = { flite, espeak, 'espeak-ng': espeak };
  return {
    status,
    llm(assistant: AssistantSpec): LlmProvider {
      if (assistant.assistantProvider === 'scripted')
        return new ScriptedLlm(assistant.dialog as unknown as Dialog);
      throw unavailable(
        'llm_error',
        assistant.assistantProvider,
        'this deployment has no model for this provider (offline); use assistantProvider "scripted"',
      );
    },
    stt(assistant: AssistantSpec): SttProvider {
      const name = assistant.config.speech?.stt?.provider ?? 'pocketsphinx';
      if (name !== 'pocketsphinx')
        throw unavailable('stt_error', name, 'unknown STT provider (use pocketsphinx)');
      if (stt.status === 'rejected') throw unavailable('stt_error', name, status.pocketsphinx);
      return stt.value;
    },
    tts(assistant: AssistantSpec): TtsProvider {
      const name = assistant.config.speech?.tts?.provider ?? 'flite';
      const found = tts[name];
      if (!found) throw unavailable('tts_error', name, 'unknown TTS provider (use flite or espeak-ng)');
      if (found.status === 'rejected') throw unavailable('tts_error', name, why(found));
      return found.value;
    },
    vad(options: VadOptions) {
      return createWebRtcVad(options);
    },
  };
}
