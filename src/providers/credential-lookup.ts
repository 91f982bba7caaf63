/**
 * Which cloud providers take keys, the environment variables the operator's keys and base URLs
 * come from, and the lookup a call's providers read their credentials through: a team's own
 * first (tenancy/provider-credentials.ts stores them), then the environment's.
 */
import type { ProviderCredentials } from '../shared/provider-credentials.js';

export const CREDENTIAL_PROVIDERS = [
  'openai',
  'anthropic',
  'gemini',
  'openai-compatible',
  'deepgram',
  'elevenlabs',
  'cartesia',
] as const;
export type CredentialProvider = (typeof CREDENTIAL_PROVIDERS)[number];

/** The environment variables each provider's key and base URL come from when a team has none. */
export const credentialEnvironment: Record<CredentialProvider, { apiKey: string[]; baseUrl: string }> = {
  openai: { apiKey: ['OPENAI_API_KEY'], baseUrl: 'OPENAI_BASE_URL' },
  anthropic: { apiKey: ['ANTHROPIC_API_KEY'], baseUrl: 'ANTHROPIC_BASE_URL' },
  gemini: { apiKey: ['GEMINI_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY'], baseUrl: 'GEMINI_BASE_URL' },
  'openai-compatible': { apiKey: ['OPENAI_COMPATIBLE_API_KEY'], baseUrl: 'OPENAI_COMPATIBLE_BASE_URL' },
  deepgram: { apiKey: ['DEEPGRAM_API_KEY'], baseUrl: 'DEEPGRAM_BASE_URL' },
  elevenlabs: { apiKey: ['ELEVENLABS_API_KEY'], baseUrl: 'ELEVENLABS_BASE_URL' },
  cartesia: { apiKey: ['CARTESIA_API_KEY'], baseUrl: 'CARTESIA_BASE_URL' },
};

export type CredentialLookup = (provider: CredentialProvider) => ProviderCredentials;

/**
 * A team's own credentials first, then the environment's. The operator's key goes only to the
 * operator's endpoint: a team that sets its own base URL brings its own key (or none, for a
 * server that needs none), so the operator's key is never sent to a host a tenant chose.
 */
export function credentialLookup(
  team: ReadonlyMap<string, ProviderCredentials>,
  env: NodeJS.ProcessEnv,
): CredentialLookup {
  return (provider) => {
    const e = credentialEnvironment[provider];
    const own = team.get(provider) ?? {};
    const apiKey = own.apiKey ?? (own.baseUrl ? undefined : e.apiKey.map((name) => env[name]).find(Boolean));
    const baseUrl = own.baseUrl ?? (env[e.baseUrl] || undefined);
    return {
      ...(apiKey ? { apiKey } : {}),
      ...(baseUrl ? { baseUrl } : {}),
      ...(own.baseUrl ? { baseUrlFromTeam: true } : {}),
    };
  };
}
