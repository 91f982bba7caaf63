// The Vonage Voice API's messages, validated with TypeBox (telephony.md §1.3):
// - media WebSocket ("WebSockets in the Vonage Voice API"): first a text frame
//   `{"event":"websocket:connected","content-type":"audio/l16;rate=16000",…the NCCO's headers}`,
//   then binary L16 little-endian frames of 20 ms both ways; text events `websocket:cleared`
//   (after our `{"action":"clear"}`), `websocket:notify` (our `{"action":"notify","payload"}`
//   once the audio before it has played), `websocket:dtmf` (`digit` at the top level; pipecat's
//   serializer also reads `dtmf.digit`). There is no stop message: the socket closing is the end.
// - answer webhook (`uuid, conversation_uuid, from, to`, query for GET, JSON for POST) and event
//   webhook (`{status, uuid, conversation_uuid, from, to, direction, timestamp …}`);
// - NCCO (`connect` to a websocket / phone / sip endpoint, `talk`).
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TransferDestination } from '../../transport.js';
import type { CarrierCallStatus, CarrierHttpRequest, StatusReport } from '../carrier.js';

/** What Parley asks Vonage for (8000 and 16000 are what the media stream supports). */
export const VONAGE_CONTENT_TYPE = 'audio/l16;rate=16000';

const Connected = Type.Object({
  event: Type.Literal('websocket:connected'),
  'content-type': Type.String({ maxLength: 100 }),
});
const Cleared = Type.Object({ event: Type.Literal('websocket:cleared') });
const Notify = Type.Object({
  event: Type.Literal('websocket:notify'),
  payload: Type.Object({ mark: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
});
const Digit = Type.String({ minLength: 1, maxLength: 32 });
const Dtmf = Type.Object({
  event: Type.Literal('websocket:dtmf'),
  digit: Type.Optional(Digit),
  duration: Type.Optional(Type.Number()),
  dtmf: Type.Optional(Type.Object({ digit: Digit, duration: Type.Optional(Type.Number()) })),
});

export type VonageWsEvent =
  | { kind: 'connected'; sampleRate: 8000 | 16000; headers: Record<string, unknown> }
  | { kind: 'cleared' }
  | { kind: 'notify'; mark: string | undefined }
  | { kind: 'dtmf'; digits: string }
  | { kind: 'other'; event: string };

const checkConnected = TypeCompiler.Compile(Connected);
const checkCleared = TypeCompiler.Compile(Cleared);
const checkNotify = TypeCompiler.Compile(Notify);
const checkDtmf = TypeCompiler.Compile(Dtmf);

function firstError(
  check: { Errors(value: unknown): Iterable<{ path: string; message: string }> },
  v: unknown,
) {
  for (const error of check.Errors(v)) return `${error.path || '/'}: ${error.message}`;
  return 'invalid';
}

/** `audio/l16;rate=16000` → 16000; throws for other encodings or rates. */
export function parseContentType(contentType: string): 8000 | 16000 {
  const match = /^\s*audio\/l16\s*;\s*rate\s*=\s*(\d+)\s*$/i.exec(contentType);
  if (!match) throw new Error(`unsupported content-type ${JSON.stringify(contentType)} (audio/l16 expected)`);
  const rate = Number(match[1]);
  if (rate !== 8000 && rate !== 16000) throw new Error(`unsupported L16 rate ${rate} (8000 or 16000)`);
  return rate;
}

/** One text frame from Vonage's media socket; throws with the reason when malformed. */
export function parseVonageWsText(text: string): VonageWsEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('text frame is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('text frame is not a JSON object');
  }
  const event = (value as { event?: unknown }).event;
  if (typeof event !== 'string') throw new Error('text frame has no event');
  switch (event) {
    case 'websocket:connected': {
      if (!checkConnected.Check(value)) throw new Error(`${event} ${firstError(checkConnected, value)}`);
      const { event: _event, 'content-type': contentType, ...headers } = value as Record<string, unknown>;
      return { kind: 'connected', sampleRate: parseContentType(String(contentType)), headers };
    }
    case 'websocket:cleared':
      if (!checkCleared.Check(value)) throw new Error(`${event} ${firstError(checkCleared, value)}`);
      return { kind: 'cleared' };
    case 'websocket:notify':
      if (!checkNotify.Check(value)) throw new Error(`${event} ${firstError(checkNotify, value)}`);
      return { kind: 'notify', mark: value.payload.mark };
    case 'websocket:dtmf': {
      if (!checkDtmf.Check(value)) throw new Error(`${event} ${firstError(checkDtmf, value)}`);
      const digits = value.digit ?? value.dtmf?.digit;
      if (digits === undefined) throw new Error('websocket:dtmf without a digit');
      return { kind: 'dtmf', digits };
    }
    default:
      return { kind: 'other', event: event.slice(0, 60) };
  }
}

export const clearMessage = (): string => JSON.stringify({ action: 'clear' });
export const notifyMessage = (mark: string): string =>
  JSON.stringify({ action: 'notify', payload: { mark } });

// ---- webhooks ------------------------------------------------------------------------------

/** Reads a webhook's fields: the JSON body (POST), else the URL's query (GET). */
export function webhookFields(req: CarrierHttpRequest): Record<string, unknown> {
  if (req.rawBody.length > 0) {
    let value: unknown;
    try {
      value = JSON.parse(req.rawBody.toString('utf8'));
    } catch {
      throw new Error('webhook body is not JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error('webhook body is not a JSON object');
    }
    return value as Record<string, unknown>;
  }
  return Object.fromEntries(new URL(req.url).searchParams);
}

const AnswerWebhook = Type.Object({
  uuid: Type.String({ minLength: 1, maxLength: 100 }),
  to: Type.String({ minLength: 1, maxLength: 100 }),
  from: Type.Optional(Type.String({ maxLength: 200 })),
  conversation_uuid: Type.Optional(Type.String()),
});
export type VonageAnswerWebhook = Static<typeof AnswerWebhook>;
const checkAnswer = TypeCompiler.Compile(AnswerWebhook);

/** The answer webhook's fields, or `undefined` when the request is an event (it has a `status`). */
export function parseAnswerWebhook(fields: Record<string, unknown>): VonageAnswerWebhook | undefined {
  if ('status' in fields) return undefined;
  if (!checkAnswer.Check(fields)) throw new Error(`answer webhook ${firstError(checkAnswer, fields)}`);
  return fields;
}

const EventWebhook = Type.Object({
  status: Type.String({ minLength: 1, maxLength: 40 }),
  uuid: Type.String({ minLength: 1, maxLength: 100 }),
  to: Type.Optional(Type.String()),
  from: Type.Optional(Type.String()),
  direction: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
  sub_state: Type.Optional(Type.String()),
});
export type VonageEventWebhook = Static<typeof EventWebhook>;
const checkEvent = TypeCompiler.Compile(EventWebhook);

/** Vonage event `status` → Parley's phone lifecycle (telephony.md §5 table). */
export const VONAGE_STATUS_MAP: Readonly<Record<string, CarrierCallStatus>> = {
  started: 'ringing',
  ringing: 'ringing',
  answered: 'in-progress',
  human: 'in-progress',
  machine: 'in-progress',
  completed: 'completed',
  busy: 'busy',
  rejected: 'busy',
  unanswered: 'no-answer',
  timeout: 'no-answer',
  cancelled: 'canceled',
  failed: 'failed',
};

/**
 * An event webhook's status, or `undefined` for events without one (transfer, input …) and for
 * the websocket leg's own events (its `to` is the `ws(s)://` URI): only the phone leg counts.
 */
export function parseEventWebhook(fields: Record<string, unknown>): StatusReport | undefined {
  if (!('status' in fields)) return undefined;
  if (!checkEvent.Check(fields)) throw new Error(`event webhook ${firstError(checkEvent, fields)}`);
  if (fields.to && /^wss?:\/\//i.test(fields.to)) return undefined;
  const status = VONAGE_STATUS_MAP[fields.status];
  if (!status) return undefined;
  const report: StatusReport = { carrierCallId: fields.uuid, status, detail: fields.status };
  if (fields.status === 'human') report.answeredBy = 'human';
  if (fields.status === 'machine') report.answeredBy = 'machine';
  if (fields.detail) report.detail = `${fields.status} (${fields.detail})`;
  return report;
}

// ---- numbers and NCCO ----------------------------------------------------------------------

/** Vonage writes numbers as E.164 digits without `+`; Parley keeps the `+`. */
export function toE164(number: string): string {
  return /^\d{6,15}$/.test(number) ? `+${number}` : number;
}

export function toVonageNumber(number: string): string {
  if (!/^\+?\d{6,15}$/.test(number)) throw new Error(`${JSON.stringify(number)} is not an E.164 number`);
  return number.replace(/^\+/, '');
}

export type NccoEndpoint =
  | { type: 'phone'; number: string }
  | { type: 'sip'; uri: string }
  | { type: 'websocket'; uri: string; 'content-type': string; headers: Record<string, string> };

export function destinationEndpoint(to: TransferDestination): NccoEndpoint {
  if (to.type === 'sip') {
    if (!/^sips?:[^\s@]+@[^\s]+$/i.test(to.sipUri))
      throw new Error(`${JSON.stringify(to.sipUri)} is not a sip: URI`);
    return { type: 'sip', uri: to.sipUri };
  }
  return { type: 'phone', number: toVonageNumber(to.number) };
}

/** The NCCO that connects the phone leg to Parley's media WebSocket. */
export function connectWebsocketNcco(opts: {
  mediaUrl: string;
  statusUrl: string;
  /** The number the call shows (the Vonage number); omitted when empty. */
  from?: string;
  callId: string;
}): unknown[] {
  return [
    {
      action: 'connect',
      eventUrl: [opts.statusUrl],
      ...(opts.from ? { from: opts.from.replace(/^\+/, '') } : {}),
      endpoint: [
        {
          type: 'websocket',
          uri: opts.mediaUrl,
          'content-type': VONAGE_CONTENT_TYPE,
          headers: { callId: opts.callId },
        },
      ],
    },
  ];
}

/** The NCCO that forwards the caller (`from`: the caller id shown, when the destination is a phone). */
export function connectDestinationNcco(to: TransferDestination, from?: string): unknown[] {
  const endpoint = destinationEndpoint(to);
  const callerId = to.type === 'number' ? (to.callerId ?? from) : undefined;
  return [
    {
      action: 'connect',
      ...(callerId && endpoint.type === 'phone' ? { from: toVonageNumber(callerId) } : {}),
      endpoint: [endpoint],
    },
  ];
}
