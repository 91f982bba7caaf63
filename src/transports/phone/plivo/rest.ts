/**
 * Plivo's REST API for call control (Plivo "Call" API reference; plivo-node `lib/resources/call.js`):
 * JSON bodies, HTTP Basic `authId:authToken`, every path under `/v1/Account/{authId}/` and ending
 * in `/`. Make a call `POST Call/` → `{request_uuid}`; hang up `DELETE Call/{uuid}/` (204);
 * cancel a call still ringing `DELETE Request/{request_uuid}/`; transfer `POST Call/{uuid}/
 * {legs, aleg_url, aleg_method}`; DTMF `POST Call/{uuid}/DTMF/ {digits, leg}`.
 */
import type { CarrierAccount } from '../carrier.js';

export const PLIVO_API_BASE = 'https://api.plivo.com';
/** A Plivo API call that takes longer than this is abandoned (the caller's signal may end it sooner). */
const REQUEST_TIMEOUT_MS = 10_000;

export class PlivoApiError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'PlivoApiError';
  }
}

export interface PlivoResponse {
  status: number;
  body: unknown;
}

function credentials(account: CarrierAccount): { authId: string; authToken: string } {
  const authId = account.credentials.authId;
  const authToken = account.credentials.authToken;
  if (!authId || !authToken)
    throw new PlivoApiError('Plivo credentials need authId and authToken', undefined);
  if (!/^[A-Za-z0-9]{1,64}$/.test(authId))
    throw new PlivoApiError('Plivo authId must be letters and digits', undefined);
  return { authId, authToken };
}

/** One request to `{apiBaseUrl}/v1/Account/{authId}/{path}`; any HTTP status resolves, transport errors throw. */
export async function plivoRequest(
  account: CarrierAccount,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body: Record<string, unknown> | undefined,
  signal: AbortSignal,
): Promise<PlivoResponse> {
  const { authId, authToken } = credentials(account);
  const base = account.apiBaseUrl.replace(/\/+$/, '');
  const url = `${base}/v1/Account/${encodeURIComponent(authId)}/${path}`;
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${authId}:${authToken}`, 'utf8').toString('base64')}`,
    accept: 'application/json',
  };
  if (body) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await (account.fetch ?? fetch)(url, {
      method,
      headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      redirect: 'error',
    });
  } catch (error) {
    const reason = signal.aborted ? 'aborted' : error instanceof Error ? error.message : String(error);
    throw new PlivoApiError(`Plivo ${method} ${path}: ${reason}`, undefined);
  }
  const text = await response.text().catch(() => '');
  let parsed: unknown = text;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // Plivo answers JSON; anything else is kept as text for the error message.
    }
  }
  return { status: response.status, body: parsed };
}

/** Plivo's error text (`{error}` or `{message}`), for messages. */
export function plivoErrorText(response: PlivoResponse): string {
  const body = response.body;
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const text =
      typeof b.error === 'string' ? b.error : typeof b.message === 'string' ? b.message : undefined;
    if (text) return `Plivo ${response.status}: ${text.slice(0, 200)}`;
  }
  if (typeof body === 'string' && body.length > 0) return `Plivo ${response.status}: ${body.slice(0, 200)}`;
  return `Plivo ${response.status}`;
}

export function isSuccess(response: PlivoResponse): boolean {
  return response.status >= 200 && response.status < 300;
}
