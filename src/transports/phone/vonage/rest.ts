// The Vonage Voice API's REST calls (telephony.md §1.3; Vonage "Voice API reference"), each
// authenticated by a fresh RS256 JWT signed with the application's private key:
// `POST /v1/calls` (outbound), `PUT /v1/calls/{uuid}` `{"action":"hangup"}` or
// `{"action":"transfer","destination":{"type":"ncco","ncco":[…]}}`, `PUT /v1/calls/{uuid}/dtmf`
// `{"digits"}`. The uuid is always the phone leg's (the WebSocket is a leg of its own).

import type { ControlResult, TransferDestination } from '../../transport.js';
import type { CarrierAccount, PlaceCallRequest } from '../carrier.js';
import { restJwt } from './jwt.js';
import { connectDestinationNcco, connectWebsocketNcco, toVonageNumber } from './wire.js';

/** Longest body kept from an error answer (for the message). */
const ERROR_BODY_CHARS = 300;

export class VonageApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`Vonage ${what}: HTTP ${status}${body ? ` ${body.slice(0, ERROR_BODY_CHARS)}` : ''}`);
    this.name = 'VonageApiError';
  }
}

function credential(account: CarrierAccount, name: string): string {
  const value = account.credentials[name];
  if (!value) throw new Error(`Vonage credentials lack ${name}`);
  return value;
}

interface ApiAnswer {
  status: number;
  text: string;
}

async function request(
  account: CarrierAccount,
  method: 'POST' | 'PUT',
  path: string,
  body: unknown,
  signal: AbortSignal,
): Promise<ApiAnswer> {
  const token = restJwt(credential(account, 'applicationId'), credential(account, 'privateKey'), Date.now());
  const response = await (account.fetch ?? fetch)(`${account.apiBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify(body),
    signal,
  });
  return { status: response.status, text: await response.text() };
}

function callPath(uuid: string): string {
  if (!/^[A-Za-z0-9-]{1,100}$/.test(uuid))
    throw new Error(`${JSON.stringify(uuid)} is not a Vonage call uuid`);
  return `/v1/calls/${uuid}`;
}

function problem(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a control request; transport and HTTP errors become `{ ok: false }` (aborts rethrow). */
async function control(
  run: () => Promise<ApiAnswer>,
  what: string,
  signal: AbortSignal,
  alreadyDone?: (answer: ApiAnswer) => boolean,
): Promise<ControlResult> {
  try {
    const answer = await run();
    if (answer.status >= 200 && answer.status < 300) return { ok: true };
    if (alreadyDone?.(answer)) return { ok: true };
    return { ok: false, error: new VonageApiError(answer.status, answer.text, what).message };
  } catch (error) {
    if (signal.aborted) throw error;
    return { ok: false, error: `Vonage ${what}: ${problem(error)}` };
  }
}

/** "Already ended": the uuid is gone (404/410) or Vonage says the call is over. */
function callAlreadyEnded(answer: ApiAnswer): boolean {
  if (answer.status === 404 || answer.status === 410) return true;
  return (
    (answer.status === 400 || answer.status === 409 || answer.status === 422) &&
    /completed|already ended|not active|no longer/i.test(answer.text)
  );
}

const clamp = (value: number, min: number, max: number): number =>
  Math.min(max, Math.max(min, Math.round(value)));

/** `POST /v1/calls` with the NCCO inline (so no answer webhook is needed), events to the status URL. */
export async function createCall(
  req: PlaceCallRequest,
  account: CarrierAccount,
  signal: AbortSignal,
): Promise<{ carrierCallId: string }> {
  const body = {
    to: [{ type: 'phone', number: toVonageNumber(req.to) }],
    from: { type: 'phone', number: toVonageNumber(req.from) },
    ncco: connectWebsocketNcco({
      mediaUrl: req.urls.mediaUrl,
      statusUrl: req.urls.statusUrl,
      from: req.from,
      callId: req.callId,
    }),
    event_url: [req.urls.statusUrl],
    event_method: 'POST',
    ringing_timer: clamp(req.ringTimeoutSeconds, 1, 120),
    length_timer: clamp(req.timeLimitSeconds, 1, 7200),
    ...(req.machineDetection ? { machine_detection: 'continue' } : {}),
  };
  const answer = await request(account, 'POST', '/v1/calls', body, signal);
  if (answer.status < 200 || answer.status >= 300)
    throw new VonageApiError(answer.status, answer.text, 'create call');
  let uuid: unknown;
  try {
    uuid = (JSON.parse(answer.text) as { uuid?: unknown }).uuid;
  } catch {
    throw new Error('Vonage create call: the answer is not JSON');
  }
  if (typeof uuid !== 'string' || uuid.length === 0)
    throw new Error('Vonage create call: the answer has no uuid');
  return { carrierCallId: uuid };
}

export function hangUpCall(
  uuid: string,
  account: CarrierAccount,
  signal: AbortSignal,
): Promise<ControlResult> {
  return control(
    () => request(account, 'PUT', callPath(uuid), { action: 'hangup' }, signal),
    'hang-up',
    signal,
    callAlreadyEnded,
  );
}

export function transferCall(
  uuid: string,
  to: TransferDestination,
  account: CarrierAccount,
  signal: AbortSignal,
): Promise<ControlResult> {
  let ncco: unknown[];
  try {
    ncco = connectDestinationNcco(to);
  } catch (error) {
    return Promise.resolve({ ok: false, error: problem(error) });
  }
  return control(
    () =>
      request(
        account,
        'PUT',
        callPath(uuid),
        { action: 'transfer', destination: { type: 'ncco', ncco } },
        signal,
      ),
    'transfer',
    signal,
  );
}

export function sendCallDtmf(
  uuid: string,
  digits: string,
  account: CarrierAccount,
  signal: AbortSignal,
): Promise<ControlResult> {
  if (!/^[0-9*#A-Dp]{1,64}$/.test(digits)) {
    return Promise.resolve({ ok: false, error: `invalid DTMF digits ${JSON.stringify(digits)}` });
  }
  return control(
    () => request(account, 'PUT', `${callPath(uuid)}/dtmf`, { digits }, signal),
    'send DTMF',
    signal,
  );
}
