/**
 * How a cloud provider is reached: the team's stored key (decrypted) or the operator's
 * environment, and an optional base URL (a proxy, a self-hosted compatible server, or a
 * local protocol fake in tests). Every cloud provider factory takes these.
 *
 * Connection policy. A base URL set by the operator (environment variables) is trusted: Ollama
 * on 127.0.0.1 is a normal setup. A base URL set by a team was vetted once when it was saved,
 * but its host name may later resolve elsewhere (DNS rebinding), so every connection to it goes
 * through the webhooks' SSRF guard at connect time. The policy is one plain field, `guard`
 * (set by the provider catalog from `baseUrlFromTeam` and the server's `allowPrivate` setting),
 * rather than a ready undici dispatcher plus a ws lookup: the credentials stay plain data, and
 * each adapter asks the helpers below for the form its transport needs (a `fetch` for the AI SDK,
 * a `dispatcher` for undici, a `lookup` plus a literal-IP check for `ws`). The guarded undici
 * Agents are process-wide (`getGuardedAgent`), so building providers per call allocates nothing.
 */
import { isIP, type LookupFunction } from 'node:net';
import { type Dispatcher, type RequestInit as UndiciRequestInit, fetch as undiciFetch } from 'undici';
import {
  checkAddress,
  createGuardedLookup,
  findSsrfRefusal,
  getGuardedAgent,
  normalizeAddress,
  SsrfRefusedError,
} from './network-guard.js';
import { ProviderError, type ProviderErrorType } from './provider-error.js';

/** Connect-time SSRF vetting of every connection an adapter makes. */
export interface ConnectionGuard {
  /** Let loopback/private/link-local… addresses through (`PARLEY_ALLOW_PRIVATE_WEBHOOKS=1`).
   * Cloud metadata, unspecified, multicast, broadcast and reserved addresses stay refused. */
  allowPrivate: boolean;
}

export interface ProviderCredentials {
  apiKey?: string;
  /** Overrides the provider's public endpoint, e.g. `http://127.0.0.1:11434/v1` for Ollama. */
  baseUrl?: string;
  /** Set by the credential lookup: `baseUrl` is the team's own (not the operator's environment). */
  baseUrlFromTeam?: boolean;
  /** When set, every connection is vetted by the SSRF guard at connect time (see above). */
  guard?: ConnectionGuard;
}

/** The undici dispatcher for this policy; undefined (undici's global one) without a guard. */
export function guardedDispatcher(guard: ConnectionGuard | undefined): Dispatcher | undefined {
  return guard ? getGuardedAgent(guard.allowPrivate) : undefined;
}

/**
 * A `fetch` for the AI SDK providers' `fetch` option that connects through the guarded Agent
 * (redirects included: undici follows them through the same dispatcher); undefined without a
 * guard (the SDK's default global fetch). It takes a URL (the AI SDK never passes a `Request`).
 */
export function guardedFetch(guard: ConnectionGuard | undefined): typeof globalThis.fetch | undefined {
  if (!guard) return undefined;
  const dispatcher = getGuardedAgent(guard.allowPrivate);
  const fetch = (input: string | URL | Request, init?: RequestInit) => {
    if (typeof input !== 'string' && !(input instanceof URL)) {
      throw new TypeError('guarded fetch takes a URL, not a Request');
    }
    return undiciFetch(input, { ...(init as UndiciRequestInit), dispatcher });
  };
  return fetch as unknown as typeof globalThis.fetch;
}

/**
 * What a `ws` client needs for this policy: a `lookup` that drops refused addresses (host
 * names), and the refusal of a literal-IP host up front (Node's `net` skips `lookup` for those).
 */
export function guardedSocket(
  guard: ConnectionGuard | undefined,
  url: URL,
): { lookup?: LookupFunction; refused?: SsrfRefusedError } {
  if (!guard) return {};
  const host = normalizeAddress(url.hostname);
  if (isIP(host) !== 0) {
    const v = checkAddress(host, guard);
    return v.allowed
      ? {}
      : { refused: new SsrfRefusedError(`refused to connect to ${host}: ${v.reason}`, host, host, v.class) };
  }
  return { lookup: createGuardedLookup(guard) };
}

/**
 * A connection the guard refused, as the adapter's non-retryable `ssrf_refused` ProviderError
 * (retrying or reconnecting would be refused again); undefined for any other error.
 */
export function ssrfRefusal(
  error: unknown,
  type: ProviderErrorType,
  provider: string,
): ProviderError | undefined {
  if (error instanceof ProviderError) return error.code === 'ssrf_refused' ? error : undefined;
  const refusal = findSsrfRefusal(error);
  if (!refusal) return undefined;
  return new ProviderError({
    type,
    code: 'ssrf_refused',
    message: `${provider}: ${refusal.message} (a team's base URL must reach a public address)`,
    provider,
    retryable: false,
    cause: error,
  });
}
