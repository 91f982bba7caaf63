/**
 * Where calls get their providers: per team (each team may bring its own keys), from the one
 * registry (provider-registry.ts), each bound to its model and wrapped in its fallback (or, with
 * none, one retry) so that a failing provider is reported as an `error` event, not a crash.
 */
import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { EngineProviders } from '../engine/providers.js';
import type { LlmProvider } from '../llm/llm.js';
import { ProviderError, type ProviderErrorType } from '../shared/provider-error.js';
import type { SttProvider } from '../stt/stt.js';
import type { TtsProvider } from '../tts/tts.js';
import { type CredentialLookup, credentialLookup } from './credential-lookup.js';
import { FallbackLlm } from './fallback/fallback-llm.js';
import { FallbackStt } from './fallback/fallback-stt.js';
import { FallbackTts } from './fallback/fallback-tts.js';
import { RetryOnceLlm, RetryOnceTts } from './fallback/retry-once.js';
import { type LocalProviders, providerFrom } from './local-providers.js';
import type { ProviderContext } from './provider-registry.js';

/** Where calls get their providers: per team, because each team may bring its own keys. */
export interface ProviderSource {
  forTeam(teamId: string): Promise<EngineProviders>;
}

/** Teams' own keys (tenancy/provider-credentials.ts), defined here so providers/ does not import tenancy/. */
export interface TeamCredentials {
  /** Every credential of a team, with the environment behind it. */
  lookupFor(teamId: string): Promise<CredentialLookup>;
}

export interface ProviderCatalogOptions {
  /** The built-in providers, probed at start, and the VAD. */
  local: LocalProviders;
  /** Teams' encrypted keys; unset: the environment's only. */
  credentials?: TeamCredentials;
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
        probed: o.local.probed,
      });
    },
  };
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

function teamProviders(local: LocalProviders, ctx: ProviderContext): EngineProviders {
  const llmFor = (assistant: AssistantSpec, provider: string): LlmProvider =>
    providerFrom('llm', provider, ctx, assistant);
  const sttFor = (assistant: AssistantSpec, provider: string, model: string | undefined): SttProvider =>
    bindStt(providerFrom('stt', provider, ctx, assistant), model);
  const ttsFor = (assistant: AssistantSpec, provider: string, model: string | undefined): TtsProvider =>
    bindTts(providerFrom('tts', provider, ctx, assistant), model);

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
