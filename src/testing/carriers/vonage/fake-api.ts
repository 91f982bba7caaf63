// The Vonage Voice API's REST calls as the simulator answers them (Vonage "Voice API
// reference"): `POST /v1/calls` → 201 `{uuid, status:"started", direction, conversation_uuid}`;
// `PUT /v1/calls/{uuid}` with `{"action":"hangup"}` or `{"action":"transfer","destination":
// {"type":"ncco","ncco":[…]}}` → 204; `PUT /v1/calls/{uuid}/dtmf {"digits"}` → 200. Every call
// needs the application's RS256 JWT (401 otherwise); unknown calls are 404, ended ones 400.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RestRequest } from '../simulator.js';
import { restAuthProblem, type VonageKeys } from './signing.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface VonageRestRequest extends RestRequest {
  /** The HTTP status the simulator answered. */
  status: number;
  /** Why the JWT was refused (401), when it was. */
  authProblem?: string;
}

export type SimCallStatus =
  | 'started'
  | 'ringing'
  | 'answered'
  | 'completed'
  | 'busy'
  | 'timeout'
  | 'failed'
  | 'cancelled';

export interface CreateCallBody {
  to: { type: 'phone'; number: string }[];
  from: { type: 'phone'; number: string };
  ncco?: unknown[];
  answer_url?: string[];
  event_url?: string[];
  machine_detection?: 'continue' | 'hangup';
  ringing_timer?: number;
  length_timer?: number;
}

export interface SimCallRecord {
  uuid: string;
  status: SimCallStatus;
  /** Transfers Vonage accepted (the NCCO each carried). */
  transfers: unknown[][];
  dtmfSent: string[];
}

/** What the REST handler needs from the simulator. */
export interface FakeApiHost {
  readonly keys: VonageKeys;
  readonly restLog: VonageRestRequest[];
  /** How the next transfers go: `rejected` answers 400 and leaves the call as it was. */
  transferOutcome: 'ok' | 'rejected';
  call(uuid: string): SimCallRecord | undefined;
  createOutbound(body: CreateCallBody): SimCallRecord;
  /** After the 204 of a hang-up: the media closes, the `completed` event follows. */
  hangUpCall(call: SimCallRecord): void;
  /** After the 204 of a transfer: the websocket leg closes, the phone leg goes to the NCCO. */
  transferCall(call: SimCallRecord, ncco: unknown[]): void;
}

const ENDED: ReadonlySet<SimCallStatus> = new Set(['completed', 'busy', 'timeout', 'failed', 'cancelled']);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isDigits = (v: unknown): v is string => typeof v === 'string' && /^\d{6,15}$/.test(v);
const isUrlList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length > 0 && v.every((u) => typeof u === 'string' && /^https?:\/\//.test(u));

/** Why a create-call body is refused (Vonage answers 400 with `invalid_parameters`). */
export function createCallProblem(body: unknown): string | undefined {
  if (!isRecord(body)) return 'body is not a JSON object';
  const to = body.to;
  if (
    !Array.isArray(to) ||
    to.length !== 1 ||
    !isRecord(to[0]) ||
    to[0].type !== 'phone' ||
    !isDigits(to[0].number)
  )
    return 'to must be [{type:"phone", number:<E.164 digits without +>}]';
  const from = body.from;
  if (!isRecord(from) || from.type !== 'phone' || !isDigits(from.number))
    return 'from must be {type:"phone", number:<E.164 digits without +>}';
  if (body.ncco === undefined && body.answer_url === undefined) return 'ncco or answer_url is required';
  if (body.ncco !== undefined && (!Array.isArray(body.ncco) || body.ncco.length === 0))
    return 'ncco must be a non-empty array';
  if (body.answer_url !== undefined && !isUrlList(body.answer_url))
    return 'answer_url must be a list of URLs';
  if (body.event_url !== undefined && !isUrlList(body.event_url)) return 'event_url must be a list of URLs';
  if (
    body.machine_detection !== undefined &&
    body.machine_detection !== 'continue' &&
    body.machine_detection !== 'hangup'
  )
    return 'machine_detection must be continue or hangup';
  for (const [name, max] of [
    ['ringing_timer', 120],
    ['length_timer', 7200],
  ] as const) {
    const v = body[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max))
      return `${name} must be an integer 1-${max}`;
  }
  return undefined;
}

/** Why a transfer NCCO is refused: it must connect to one phone (digits) or sip: endpoint. */
export function transferProblem(destination: unknown): string | undefined {
  if (!isRecord(destination) || destination.type !== 'ncco') return 'destination.type must be ncco';
  const ncco = destination.ncco;
  if (!Array.isArray(ncco) || ncco.length === 0) return 'destination.ncco must be a non-empty array';
  const connect = ncco[0];
  if (!isRecord(connect) || connect.action !== 'connect') return 'the NCCO must start with connect';
  const endpoint = Array.isArray(connect.endpoint) ? connect.endpoint[0] : undefined;
  if (!isRecord(endpoint)) return 'connect needs an endpoint';
  if (endpoint.type === 'phone' && isDigits(endpoint.number)) return undefined;
  if (endpoint.type === 'sip' && typeof endpoint.uri === 'string' && /^sips?:/.test(endpoint.uri))
    return undefined;
  return 'endpoint must be {type:"phone", number} or {type:"sip", uri}';
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const problemBody = (title: string, detail: string) => ({
  type: 'https://developer.nexmo.com/api-errors',
  title,
  detail,
});

export async function handleRest(
  host: FakeApiHost,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  let text = '';
  try {
    text = await readBody(req);
  } catch {
    send(res, 413, problemBody('Payload Too Large', 'body over 1 MB'));
    return;
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Kept as text: the handler refuses it below.
  }
  const entry: VonageRestRequest = { method, path, body, action: 'other', status: 0 };
  host.restLog.push(entry);
  const answer = (status: number, payload?: unknown, after?: () => void) => {
    entry.status = status;
    send(res, status, payload);
    after?.();
  };
  const authProblem = restAuthProblem(host.keys, req.headers.authorization);
  const callMatch = /^\/v1\/calls\/([A-Za-z0-9-]+)(\/dtmf)?$/.exec(path);
  if (method === 'POST' && path === '/v1/calls') entry.action = 'create-call';
  else if (method === 'PUT' && callMatch?.[2]) entry.action = 'dtmf';
  else if (method === 'PUT' && callMatch && isRecord(body) && body.action === 'hangup')
    entry.action = 'hangup';
  else if (method === 'PUT' && callMatch && isRecord(body) && body.action === 'transfer')
    entry.action = 'transfer';
  if (authProblem) {
    entry.authProblem = authProblem;
    answer(401, problemBody('Unauthorized', authProblem));
    return;
  }
  if (entry.action === 'create-call') {
    const problem = createCallProblem(body);
    if (problem) {
      answer(400, { ...problemBody('Bad Request', problem), invalid_parameters: [{ reason: problem }] });
      return;
    }
    const call = host.createOutbound(body as CreateCallBody);
    answer(201, {
      uuid: call.uuid,
      status: 'started',
      direction: 'outbound',
      conversation_uuid: `CON-${call.uuid}`,
    });
    return;
  }
  if (!callMatch?.[1] || method !== 'PUT') {
    answer(404, problemBody('Not Found', `${method} ${path}`));
    return;
  }
  const call = host.call(callMatch[1]);
  if (!call) {
    answer(404, problemBody('Not Found', `Call ${callMatch[1]} was not found`));
    return;
  }
  if (ENDED.has(call.status)) {
    answer(
      400,
      problemBody('Bad Request', `Call is already ${call.status === 'completed' ? 'completed' : 'ended'}`),
    );
    return;
  }
  if (entry.action === 'dtmf') {
    const digits = isRecord(body) ? body.digits : undefined;
    if (typeof digits !== 'string' || !/^[0-9*#A-Dp]{1,64}$/.test(digits)) {
      answer(400, problemBody('Bad Request', 'digits must be 0-9 * # A-D p'));
      return;
    }
    call.dtmfSent.push(digits);
    answer(200, { message: 'DTMF sent', uuid: call.uuid });
    return;
  }
  if (entry.action === 'hangup') {
    answer(204, undefined, () => host.hangUpCall(call));
    return;
  }
  if (entry.action === 'transfer') {
    const destination = isRecord(body) ? body.destination : undefined;
    const problem = transferProblem(destination);
    if (problem || host.transferOutcome === 'rejected') {
      answer(400, problemBody('Bad Request', problem ?? 'the destination rejected the transfer'));
      return;
    }
    const ncco = (destination as { ncco: unknown[] }).ncco;
    call.transfers.push(ncco);
    answer(204, undefined, () => host.transferCall(call, ncco));
    return;
  }
  answer(204);
}
