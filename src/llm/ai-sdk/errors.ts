import { APICallError, RetryError } from 'ai';
import { ssrfRefusal } from '../../shared/provider-credentials.js';
import { ProviderError } from '../../shared/provider-error.js';

/**
 * Any failure of an AI SDK call as Parley's `ProviderError` (type `llm_error`):
 * 429 → `rate_limited` (retryable); 5xx, 408, 409, Anthropic's 529 → `server_error`
 * (retryable); 401/403 → `unauthorized`; 400/404/413/422 and other 4xx → `invalid_request`
 * (not retryable; "context length exceeded" is one of these); network failures and streams
 * cut mid-way → `connection_lost` (retryable); a malformed response → `bad_response` (retryable);
 * a connection the SSRF guard refused (a team's base URL reaching a private address) →
 * `ssrf_refused` (not retryable).
 */
export function toLlmProviderError(error: unknown, provider: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const make = (code: string, retryable: boolean, message: string) =>
    new ProviderError({ type: 'llm_error', code, message, provider, retryable, cause: error });

  if (RetryError.isInstance(error)) return toLlmProviderError(error.lastError, provider);

  const refused = ssrfRefusal(error, 'llm_error', provider);
  if (refused) return refused;

  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const detail = apiMessage(error);
    if (status !== undefined && status >= 200 && status < 300) {
      // The response started fine and then broke: cut mid-stream, or garbage in it.
      return isNetworkError(error.cause)
        ? make('connection_lost', true, `${provider}: connection lost mid-response: ${networkDetail(error)}`)
        : make('bad_response', true, `${provider}: malformed response: ${networkDetail(error)}`);
    }
    if (status === undefined) {
      // No HTTP response: the connection failed (refused, reset, DNS).
      return make('connection_lost', true, `${provider}: connection failed: ${detail}`);
    }
    if (status === 429) {
      const after = error.responseHeaders?.['retry-after'];
      return make(
        'rate_limited',
        true,
        `${provider}: rate limited${after ? ` (retry after ${after} s)` : ''}: ${detail}`,
      );
    }
    // Google answers a wrong API key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID.
    if (
      status === 401 ||
      status === 403 ||
      (status === 400 && error.responseBody?.includes('API_KEY_INVALID'))
    )
      return make('unauthorized', false, `${provider}: not authorized (HTTP ${status}): ${detail}`);
    if (status === 408) return make('timeout', true, `${provider}: request timed out (HTTP 408): ${detail}`);
    if (status >= 500 || status === 409)
      return make('server_error', true, `${provider}: server error (HTTP ${status}): ${detail}`);
    return make('invalid_request', false, `${provider}: request rejected (HTTP ${status}): ${detail}`);
  }

  // An error event inside a stream that had started: the provider's plain error object
  // (OpenAI `{message,type,code}`, Anthropic `{type:'overloaded_error',message}`).
  if (!(error instanceof Error) && typeof error === 'object' && error !== null) {
    const { type, message } = error as { type?: unknown; message?: unknown };
    const kind = typeof type === 'string' ? type : '';
    const text = `${provider}: error mid-stream${kind ? ` (${kind})` : ''}: ${typeof message === 'string' ? message : JSON.stringify(error)}`;
    if (/rate_limit/.test(kind)) return make('rate_limited', true, text);
    if (/authentication|permission/.test(kind)) return make('unauthorized', false, text);
    if (/invalid_request|not_found|request_too_large/.test(kind)) return make('invalid_request', false, text);
    // overloaded_error, api_error, server_error, or unknown: the server failed mid-answer.
    return make('server_error', true, text);
  }

  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (
    name === 'AI_JSONParseError' ||
    name === 'AI_TypeValidationError' ||
    name === 'AI_InvalidResponseDataError'
  )
    return make('bad_response', true, `${provider}: malformed response: ${message}`);
  if (isNetworkError(error))
    return make('connection_lost', true, `${provider}: connection lost: ${networkDetail(error)}`);
  if (name === 'AI_LoadAPIKeyError')
    return make('unauthorized', false, `${provider}: no API key: ${message}`);
  if (name === 'AI_InvalidPromptError' || name === 'AI_InvalidArgumentError' || name === 'AI_NoSuchToolError')
    return make('invalid_request', false, `${provider}: invalid request: ${message}`);
  return make('provider_error', false, `${provider}: ${message}`);
}

function apiMessage(error: APICallError): string {
  const data = error.data as { error?: { message?: unknown } } | undefined;
  const fromData = typeof data?.error?.message === 'string' ? data.error.message : undefined;
  return (fromData ?? error.message).slice(0, 500);
}

const networkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Node's fetch (undici) reports a dropped connection as `TypeError: terminated` / `fetch failed`. */
function isNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (typeof e !== 'object') return false;
    const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && networkCodes.has(code)) return true;
    if (name === 'TypeError' && (message === 'terminated' || message === 'fetch failed')) return true;
    if (name === 'SocketError') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function networkDetail(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (e instanceof Error) parts.push(e.message);
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}
