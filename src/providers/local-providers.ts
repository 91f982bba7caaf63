/**
 * The built-in providers, probed once at start (pocketsphinx, flite, espeak-ng, the WebRTC VAD),
 * and the lookup of a provider by name in the registry (provider-registry.ts) that the catalog
 * and the offline-only set share. An assistant that names a provider that is missing, unknown
 * or without its key gets a `ProviderError` (an `error` event on its call), not a crash.
 */
import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { EngineProviders } from '../engine/providers.js';
import type { LlmProvider } from '../llm/llm.js';
import { ProviderError, type ProviderErrorType } from '../shared/provider-error.js';
import type { SttProvider } from '../stt/stt.js';
import type { TtsProvider } from '../tts/tts.js';
import { createWebRtcVad } from '../vad/webrtc/index.js';
import {
  llmRegistry,
  type ProviderContext,
  type ProviderEntry,
  sttRegistry,
  ttsRegistry,
} from './provider-registry.js';

/** The offline providers: the built-in ones, and the probe results the catalog builds on. */
export interface LocalProviders extends EngineProviders {
  /** What is available, and why not where it is not (by provider name, and `webrtcVad`). */
  readonly status: Record<string, 'ok' | string>;
  /** The instance a probed built-in provider made at start; throws its probe's failure. */
  probed<P>(entry: ProviderEntry<P>): P;
}

export type ProviderKind = 'llm' | 'stt' | 'tts';

const KINDS: Record<
  ProviderKind,
  { registry: Readonly<Record<string, ProviderEntry<unknown>>>; label: string }
> = {
  llm: { registry: llmRegistry, label: 'LLM' },
  stt: { registry: sttRegistry, label: 'STT' },
  tts: { registry: ttsRegistry, label: 'TTS' },
};

const errorType = (kind: ProviderKind): ProviderErrorType => `${kind}_error`;

const unavailable = (kind: ProviderKind, provider: string, why: string, code = 'provider_unavailable') =>
  new ProviderError({
    type: errorType(kind),
    code,
    message: `${provider}: ${why}`,
    provider,
    retryable: false,
  });

/**
 * The provider `name` of a kind for `assistant`. `offlineOnly`: only built-in providers (a
 * deployment without the catalog).
 */
export function providerFrom<P>(
  kind: ProviderKind,
  name: string,
  ctx: ProviderContext,
  assistant: AssistantSpec,
  offlineOnly = false,
): P {
  const { registry, label } = KINDS[kind];
  const entry = registry[name] as ProviderEntry<P> | undefined;
  if (!entry || (offlineOnly && !entry.builtIn)) {
    const builtIn = Object.keys(registry).filter((n) => registry[n]?.builtIn);
    throw unavailable(
      kind,
      name,
      entry
        ? `not available in this deployment (offline); use ${builtIn.join(' or ')}`
        : `unknown ${label} provider (built in: ${builtIn.join(', ')})`,
    );
  }
  if (entry.credential && !entry.keyOptional && !ctx.credentials(entry.credential).apiKey) {
    throw unavailable(
      kind,
      name,
      `no API key; set one with PUT /v1/provider-credentials/${entry.credential} or in the server environment`,
      'missing_credentials',
    );
  }
  try {
    return entry.create(ctx, assistant);
  } catch (error) {
    // Named as the assistant names it (espeak-ng and espeak share one probe).
    if (error instanceof ProbeFailed) throw unavailable(kind, name, error.message);
    throw error;
  }
}

/** A built-in provider whose probe failed at start; its message is the probe's reason. */
class ProbeFailed extends Error {}

const reasonOf = (r: PromiseSettledResult<unknown>) =>
  r.status === 'fulfilled' ? 'ok' : r.reason instanceof Error ? r.reason.message : String(r.reason);

/** Probes every built-in provider with a probe (once each) and the VAD. */
export async function createLocalProviders(): Promise<LocalProviders> {
  const entries = new Map<ProviderEntry<unknown>, { name: string; kind: ProviderKind }>();
  for (const kind of Object.keys(KINDS) as ProviderKind[])
    for (const [name, entry] of Object.entries(KINDS[kind].registry))
      if (entry.probe && !entries.has(entry)) entries.set(entry, { name, kind });
  const [vad, ...results] = await Promise.allSettled([
    createWebRtcVad(),
    ...[...entries.keys()].map((entry) => (entry.probe as () => Promise<unknown>)()),
  ]);
  const probes = new Map(
    [...entries.keys()].map((entry, i) => [entry, results[i] as PromiseSettledResult<unknown>]),
  );
  const status: Record<string, string> = {};
  for (const [entry, { name }] of entries)
    status[name] = reasonOf(probes.get(entry) as PromiseSettledResult<unknown>);
  status.webrtcVad = reasonOf(vad as PromiseSettledResult<unknown>);
  if (vad?.status === 'fulfilled') vad.value.close();

  const probed = <P>(entry: ProviderEntry<P>): P => {
    const result = probes.get(entry);
    if (!result) throw new Error('probed(): not a probed built-in provider');
    if (result.status === 'rejected') throw new ProbeFailed(reasonOf(result));
    return result.value as P;
  };
  const ctx: ProviderContext = { credentials: () => ({}), modelsDir: '', probed };
  return {
    status,
    probed,
    llm: (assistant) => providerFrom<LlmProvider>('llm', assistant.assistantProvider, ctx, assistant, true),
    stt: (assistant) =>
      providerFrom<SttProvider>(
        'stt',
        assistant.config.speech?.stt?.provider ?? 'pocketsphinx',
        ctx,
        assistant,
        true,
      ),
    tts: (assistant) =>
      providerFrom<TtsProvider>(
        'tts',
        assistant.config.speech?.tts?.provider ?? 'flite',
        ctx,
        assistant,
        true,
      ),
    vad: (options) => createWebRtcVad(options),
  };
}
