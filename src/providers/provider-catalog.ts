import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { EngineProviders } from '../engine/providers.js';
import type { LlmProvider } from '../llm/llm.js';
import { ProviderError, type ProviderErrorType } from '../shared/provider-error.js';
import type { SttProvider } from '../stt/stt.js';
import {
  type CredentialLookup,
  credentialLookup,
  type ProviderCredentialStore,
} from '../tenancy/provider-credentials.js';
import type { TtsProvider } from '../tts/tts.js';
import { FallbackLlm } from './fallback/fallback-llm.js';
import { FallbackStt } from './fallback/fallback-stt.js';
import { FallbackTts } from './fallback/fallback-tts.js';
import { RetryOnceLlm, RetryOnceTts } from './fallback/retry-once.js';
import {
  llmRegistry,
  type ProviderContext,
  type ProviderEntry,
  sttRegistry,
  ttsRegistry,
} from './provider-registry.js';

/** Where calls get their providers: per team, because each team may bring its own keys. */
export interface ProviderSource {
  forTeam(teamId: string): Promise<EngineProviders>;
}

export interface ProviderCatalogOptions {
  /** The offline providers (scripted, pocketsphinx, flite, espeak-ng, VAD). */
  local: EngineProviders;
  /** Teams' encrypted keys; unset: the environment's only. */
  credentials?: ProviderCredentialStore;
  modelsDir: string;
  localLlm?: { threads: number; contextSize: number };
  env?: NodeJS.ProcessEnv;
  /**
   * Whether a team's provider base URL may reach private/loopback addresses (the server's
   * `PARLEY_ALLOW_PRIVATE_WEBHOOKS`). Default false. Operator (environment) base URLs are never
   * guarded.
   */
  allowPrivateBaseUrls?: boolean;
}

/**
 * The credential lookup with the connection policy added: a base URL the team chose
 * (`baseUrlFromTeam`) gets `guard`, so every connection to it is vetted by the SSRF guard at
 * connect time; the operator's environment base URLs stay trusted.
 */
export function withConnectionPolicy(lookup: CredentialLookup, allowPrivate: boolean): CredentialLookup {
  return (provider) => {
    const c = lookup(provider);
    return c.baseUrl && c.baseUrlFromTeam ? { ...c, guard: { allowPrivate } } : c;
  };
}

export function createProviderCatalog(o: ProviderCatalogOptions): ProviderSource {
  const env = o.env ?? process.env;
  return {
    async forTeam(teamId) {
      const credentials = o.credentials
        ? withConnectionPolicy(await o.credentials.lookupFor(teamId), o.allowPrivateBaseUrls ?? false)
        : credentialLookup(new Map(), env);
      return teamProviders(o.local, {
        credentials,
        modelsDir: o.modelsDir,
        ...(o.localLlm ? { localLlm: o.localLlm } : {}),
      });
    },
  };
}

function fromRegistry<P>(
  entry: ProviderEntry<P>,
  name: string,
  type: ProviderErrorType,
  ctx: ProviderContext,
  assistant: AssistantSpec,
): P {
  if (entry.credential && !entry.keyOptional && !ctx.credentials(entry.credential).apiKey) {
    throw new ProviderError({
      type,
      code: 'missing_credentials',
      message: `${name}: no API key; set one with PUT /v1/provider-credentials/${entry.credential} or in the server environment`,
      provider: name,
      retryable: false,
    });
  }
  return entry.create(ctx, assistant);
}

const withModel = <O extends { model?: string }>(options: O, model: string | undefined): O =>
  model ? { ...options, model } : options;

const bindStt = (p: SttProvider, model: string | undefined): SttProvider =>
  model ? { name: p.name, stream: (options, signal) => p.stream(withModel(options, model), signal) } : p;

const bindTts = (p: TtsProvider, model: string | undefined): TtsProvider =>
  model
    ? {
        name: p.name,
        synthesize: (text, options, signal) => p.synthesize(text, withModel(options, model), signal),
      }
    : p;

/** A fallback that cannot be built (no key, unknown name) is reported; the call keeps its primary. */
function withFallback<P>(
  primary: P,
  build: () => P,
  report: (e: ProviderError) => void,
  type: ProviderErrorType,
  name: string,
): P {
  try {
    return build();
  } catch (error) {
    report(
      error instanceof ProviderError
        ? error
        : new ProviderError({
            type,
            code: 'unavailable',
            message: String(error),
            provider: name,
            retryable: false,
          }),
    );
    return primary;
  }
}

export function teamProviders(local: EngineProviders, ctx: ProviderContext): EngineProviders {
  const llmFor = (assistant: AssistantSpec, provider: string): LlmProvider => {
    const entry = llmRegistry[provider];
    return entry
      ? fromRegistry(entry, provider, 'llm_error', ctx, assistant)
      : local.llm({ ...assistant, assistantProvider: provider as AssistantSpec['assistantProvider'] });
  };
  const sttFor = (assistant: AssistantSpec, provider: string, model: string | undefined): SttProvider => {
    const entry = sttRegistry[provider];
    const stt = entry
      ? fromRegistry(entry, provider, 'stt_error', ctx, assistant)
      : local.stt({
          ...assistant,
          config: { ...assistant.config, speech: { ...assistant.config.speech, stt: { provider } } },
        });
    return bindStt(stt, model);
  };
  const ttsFor = (assistant: AssistantSpec, provider: string, model: string | undefined): TtsProvider => {
    const entry = ttsRegistry[provider];
    const tts = entry
      ? fromRegistry(entry, provider, 'tts_error', ctx, assistant)
      : local.tts({
          ...assistant,
          config: { ...assistant.config, speech: { ...assistant.config.speech, tts: { provider } } },
        });
    return bindTts(tts, model);
  };

  return {
    llm(assistant, report) {
      const primary = llmFor(assistant, assistant.assistantProvider);
      const fallback = assistant.assistantFallback;
      if (!report) return primary;
      if (!fallback) return new RetryOnceLlm(primary, report);
      return withFallback(
        primary,
        () =>
          new FallbackLlm(
            primary,
            llmFor(assistant, fallback.provider),
            fallback.model,
            report,
            fallback.provider,
          ),
        report,
        'llm_error',
        fallback.provider,
      );
    },
    stt(assistant, report) {
      const config = assistant.config.speech?.stt;
      const primary = sttFor(assistant, config?.provider ?? 'pocketsphinx', config?.model);
      const fallback = config?.fallback;
      if (!report) return primary;
      if (!fallback) return new FallbackStt(primary, primary, {}, report);
      return withFallback(
        primary,
        () =>
          new FallbackStt(
            primary,
            sttFor(assistant, fallback.provider, fallback.model),
            fallback.language ? { language: fallback.language } : {},
            report,
          ),
        report,
        'stt_error',
        fallback.provider,
      );
    },
    tts(assistant, report) {
      const config = assistant.config.speech?.tts;
      const primary = ttsFor(assistant, config?.provider ?? 'flite', config?.model);
      const fallback = config?.fallback;
      if (!report) return primary;
      if (!fallback) return new RetryOnceTts(primary, report);
      return withFallback(
        primary,
        () =>
          new FallbackTts(
            primary,
            ttsFor(assistant, fallback.provider, fallback.model),
            fallback.voice ? { voice: fallback.voice } : {},
            report,
          ),
        report,
        'tts_error',
        fallback.provider,
      );
    },
    vad: (options) => local.vad(options),
  };
}
