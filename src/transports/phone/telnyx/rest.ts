/**
 * Telnyx Call Control REST (developers.telnyx.com/api-reference/call-commands): JSON over HTTPS,
 * `Authorization: Bearer <API key>`, base `https://api.telnyx.com` + `/v2/…` (the number's
 * `apiBaseUrl` replaces the origin, e.g. for the test simulator). Errors come as
 * `{errors:[{code, title, detail}]}`; a command on a call that has ended answers 422 with code
 * 90018 ("Call has already ended"; pipecat serializers/telnyx.py), which hang-up counts as success.
 */

import type { ControlResult, TransferDestination } from '../../transport.js';
import type { CarrierAccount } from '../carrier.js';
import { telnyxErrorBodyChecker } from './wire.js';

export const TELNYX_API_BASE_URL = 'https://api.telnyx.com';
/** Telnyx error code: the call has already ended. */
export const CALL_ALREADY_ENDED = '90018';

export interface TelnyxResponse {
  status: number;
  body: unknown;
}

function credential(account: CarrierAccount, name: 'apiKey' | 'connectionId'): string {
  const value = account.credentials[name];
  if (!value) throw new Error(`Telnyx credentials: ${name} is missing`);
  return value;
}

export function connectionIdOf(account: CarrierAccount): string {
  return credential(account, 'connectionId');
}

/** POSTs `body` to `path` (`/v2/…`); resolves with any HTTP status, rejects on network errors and aborts. */
export async function telnyxPost(
  account: CarrierAccount,
  path: string,
  body: object,
  signal: AbortSignal,
): Promise<TelnyxResponse> {
  const apiKey = credential(account, 'apiKey');
  const response = await (account.fetch ?? fetch)(`${account.apiBaseUrl.replace(/\/+$/, '')}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page …): kept as text for the error message.
  }
  return { status: response.status, body: parsed };
}

/** `422 … 90018 Call has already ended`, or Telnyx's 404 (no such live call). */
export function isAlreadyEnded(response: TelnyxResponse): boolean {
  // Only Telnyx's own error bodies count: a 404 from a wrong apiBaseUrl must not pass as success.
  if (!telnyxErrorBodyChecker.Check(response.body)) return false;
  if (response.status === 404) return true;
  return (
    response.status === 422 && response.body.errors.some((error) => String(error.code) === CALL_ALREADY_ENDED)
  );
}

export function describeError(response: TelnyxResponse): string {
  if (telnyxErrorBodyChecker.Check(response.body) && response.body.errors.length > 0) {
    const parts = response.body.errors.map((e) =>
      [e.code, e.title, e.detail].filter((part) => part !== undefined && part !== '').join(' '),
    );
    return `Telnyx ${response.status}: ${parts.join('; ')}`;
  }
  const text = typeof response.body === 'string' ? response.body.slice(0, 200) : '';
  return `Telnyx ${response.status}${text ? `: ${text}` : ''}`;
}

function errorText(error: unknown): string {
  if (error instanceof Error && error.name === 'AbortError') return 'Telnyx request aborted';
  return error instanceof Error ? error.message : String(error);
}

/**
 * A call command `POST /v2/calls/{call_control_id}/actions/{action}` as a `ControlResult`
 * (never rejects). `alreadyEndedIsOk`: for hang-up, a call already gone is success.
 */
export async function callCommand(
  account: CarrierAccount,
  callControlId: string,
  action: string,
  body: object,
  signal: AbortSignal,
  alreadyEndedIsOk = false,
): Promise<ControlResult> {
  try {
    const response = await telnyxPost(
      account,
      `/v2/calls/${encodeURIComponent(callControlId)}/actions/${action}`,
      body,
      signal,
    );
    if (response.status >= 200 && response.status < 300) return { ok: true };
    if (alreadyEndedIsOk && isAlreadyEnded(response)) return { ok: true };
    return { ok: false, error: `${action}: ${describeError(response)}` };
  } catch (error) {
    return { ok: false, error: `${action}: ${errorText(error)}` };
  }
}

const E164 = /^\+[1-9][0-9]{1,14}$/;
const SIP_URI = /^sips?:[^\s@]+@[^\s@]+$|^sips?:[^\s@]+$/;

export function isE164(value: string): boolean {
  return E164.test(value);
}

/** The `to` of a transfer: an E.164 number or a `sip:` URI; throws naming what is wrong. */
export function destinationAddress(to: TransferDestination): string {
  if (to.type === 'number') {
    if (!E164.test(to.number))
      throw new Error(`transfer destination ${JSON.stringify(to.number)} is not E.164`);
    return to.number;
  }
  if (!SIP_URI.test(to.sipUri))
    throw new Error(`transfer destination ${JSON.stringify(to.sipUri)} is not a sip: URI`);
  return to.sipUri;
}
