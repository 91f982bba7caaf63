/** Deepgram failures (refused upgrade, close codes, socket errors) as `ProviderError`s. */
import { ProviderError } from '../../shared/provider-error.js';

export const DEEPGRAM = 'deepgram';

export function deepgramError(
  code: string,
  message: string,
  retryable: boolean,
  cause?: unknown,
): ProviderError {
  return new ProviderError({ type: 'stt_error', code, message, provider: DEEPGRAM, retryable, cause });
}

/** A refused WebSocket upgrade: HTTP status plus Deepgram's `dg-error` header / JSON body. */
export function upgradeError(status: number, detail: string, retryAfter: string | undefined): ProviderError {
  const text = `Deepgram refused the connection: HTTP ${status}${detail ? ` (${detail})` : ''}`;
  if (status === 401 || status === 403) return deepgramError('unauthorized', text, false);
  if (status === 429)
    return deepgramError('rate_limited', retryAfter ? `${text}; retry after ${retryAfter} s` : text, true);
  if (status === 408) return deepgramError('timeout', text, true);
  if (status >= 500) return deepgramError('server_error', text, true);
  if (status === 402) return deepgramError('quota_exceeded', text, false);
  return deepgramError('invalid_request', text, false);
}

/** Deepgram's error detail from a refused upgrade: `dg-error` header, else the JSON body. */
export function upgradeDetail(header: string | string[] | undefined, body: string): string {
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader) return fromHeader.slice(0, 300);
  try {
    const parsed = JSON.parse(body) as { err_msg?: unknown; err_code?: unknown };
    if (typeof parsed.err_msg === 'string') return parsed.err_msg.slice(0, 300);
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 300);
}

/** An unexpected close of an open socket. 1008 (`DATA-0000`) means the audio was unusable. */
export function closeError(code: number, reason: string): ProviderError {
  const text = `Deepgram closed the connection (${code}${reason ? ` ${reason}` : ''})`;
  if (code === 1008) return deepgramError('invalid_request', text, false);
  return deepgramError('connection_lost', text, true);
}
