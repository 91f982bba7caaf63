/**
 * Twilio's REST API for calls (twilio-node src/rest/api/v2010/account/call.ts; Twilio "Call
 * resource"): HTTP Basic auth `AccountSid:AuthToken`, form-encoded bodies, JSON answers.
 * - create: `POST /2010-04-01/Accounts/{AC}/Calls.json` (`To, From, Twiml, StatusCallback,
 *   StatusCallbackEvent…, Timeout, TimeLimit, MachineDetection, AsyncAmd…`) → 201 `{sid}`;
 * - update a live call: `POST …/Calls/{CA}.json` with `Status=completed` (hangs up whether
 *   ringing or answered) or `Twiml=<Response><Dial>…` (the stream gets `stop`, the caller is
 *   dialled elsewhere). Errors are JSON `{code, message, more_info, status}`.
 */
import type { CarrierAccount } from '../carrier.js';

export const TWILIO_API_BASE_URL = 'https://api.twilio.com';
const ACCOUNT_SID = /^AC[0-9A-Za-z]{1,64}$/;

/** Twilio error codes that mean the call is already over (so a hang-up has nothing to do). */
const CALL_ALREADY_ENDED = new Set([20404, 21220]);

export class TwilioApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'TwilioApiError';
  }
}

export interface TwilioCredentials {
  accountSid: string;
  authToken: string;
}

/** The account's credentials, checked. */
export function twilioCredentials(account: CarrierAccount): TwilioCredentials {
  const { accountSid, authToken } = account.credentials;
  if (!accountSid || !ACCOUNT_SID.test(accountSid))
    throw new Error('credentials.accountSid must be a Twilio Account SID (AC…)');
  if (!authToken) throw new Error('credentials.authToken is required');
  return { accountSid, authToken };
}

export interface TwilioResponse {
  status: number;
  body: unknown;
}

/** One form-encoded POST to the account's API; throws only on network errors and aborts. */
export async function twilioPost(
  account: CarrierAccount,
  path: string,
  form: URLSearchParams,
  signal: AbortSignal,
): Promise<TwilioResponse> {
  const { accountSid, authToken } = twilioCredentials(account);
  const url = `${account.apiBaseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}${path}`;
  const response = await (account.fetch ?? fetch)(url, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: form.toString(),
    signal,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): kept as text for the message.
  }
  return { status: response.status, body };
}

/** Twilio's error `{code, message}` out of a failed answer. */
export function twilioError(response: TwilioResponse, what: string): TwilioApiError {
  const body = response.body as { code?: unknown; message?: unknown } | string | undefined;
  const code = typeof body === 'object' && typeof body?.code === 'number' ? body.code : undefined;
  const detail =
    typeof body === 'object' && typeof body?.message === 'string'
      ? body.message
      : typeof body === 'string'
        ? body.slice(0, 200)
        : '';
  return new TwilioApiError(
    `Twilio ${what} failed: HTTP ${response.status}${code ? ` (code ${code})` : ''}${detail ? `: ${detail}` : ''}`,
    response.status,
    code,
  );
}

/** The call is over already: hanging it up again is success (pipecat#2145). */
export function callAlreadyEnded(response: TwilioResponse): boolean {
  if (response.status === 404) return true;
  const code = (response.body as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && CALL_ALREADY_ENDED.has(code);
}

export const callPath = (callSid: string): string => `/Calls/${encodeURIComponent(callSid)}.json`;

export function errorText(error: unknown): string {
  if (error instanceof Error && error.name === 'AbortError') return 'aborted';
  return error instanceof Error ? error.message : String(error);
}
