/**
 * Telnyx's dialects as TypeBox schemas: the media WebSocket (Telnyx AsyncAPI "Stream call media
 * over WebSocket", developers.telnyx.com/api-reference/websockets/stream-call-media-over-websocket)
 * and the Call Control webhook envelope (`{data:{event_type, payload:{call_control_id …}}}`,
 * developers.telnyx.com "Receiving webhooks"). Every message from Telnyx goes through
 * `parseMediaMessage` / `parseWebhook`: a malformed one throws with a reason that names the field.
 *
 * Media WS, Telnyx → us: `connected {version}`; `start {sequence_number, stream_id,
 * start:{call_control_id, from, to, client_state?, media_format:{encoding, sample_rate, channels}}}`;
 * `media {sequence_number, media:{track, chunk, timestamp, payload}}` (payload = base64 RTP payload,
 * no header; order NOT guaranteed); `dtmf {dtmf:{digit}}`; `mark {mark:{name}}`; `error
 * {payload:{code, title, detail}}`; `stop {stop:{call_control_id}}`. Sequence numbers, chunks and
 * timestamps are decimal strings. Us → Telnyx: `media {media:{payload}}`, `mark {mark:{name}}`, `clear`.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** A non-negative integer sent as a decimal string (Telnyx) or, leniently, as a number. */
const Counter = Type.Union([Type.String({ pattern: '^[0-9]{1,15}$' }), Type.Integer({ minimum: 0 })]);
const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 60_000 });
const Id = Type.String({ minLength: 1, maxLength: 512 });

export const MediaFormatSchema = Type.Object({
  encoding: Type.String({ minLength: 1, maxLength: 16 }),
  sample_rate: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]{1,6}$' })]),
  channels: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]$' })])),
});

export const TelnyxMediaSchemas = {
  connected: Type.Object({ event: Type.Literal('connected'), version: Type.Optional(Type.String()) }),
  start: Type.Object({
    event: Type.Literal('start'),
    sequence_number: Type.Optional(Counter),
    stream_id: Type.Optional(Id),
    start: Type.Object({
      call_control_id: Id,
      call_session_id: Type.Optional(Type.String()),
      from: Type.Optional(Type.String()),
      to: Type.Optional(Type.String()),
      client_state: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      media_format: MediaFormatSchema,
    }),
  }),
  media: Type.Object({
    event: Type.Literal('media'),
    sequence_number: Counter,
    stream_id: Type.Optional(Type.String()),
    media: Type.Object({
      track: Type.Optional(Type.String({ maxLength: 32 })),
      chunk: Type.Optional(Counter),
      timestamp: Type.Optional(Counter),
      payload: Base64,
    }),
  }),
  dtmf: Type.Object({
    event: Type.Literal('dtmf'),
    sequence_number: Type.Optional(Counter),
    stream_id: Type.Optional(Type.String()),
    occurred_at: Type.Optional(Type.String()),
    dtmf: Type.Object({ digit: Type.String({ minLength: 1, maxLength: 16 }) }),
  }),
  mark: Type.Object({
    event: Type.Literal('mark'),
    sequence_number: Type.Optional(Counter),
    stream_id: Type.Optional(Type.String()),
    mark: Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) }),
  }),
  error: Type.Object({
    event: Type.Literal('error'),
    sequence_number: Type.Optional(Counter),
    stream_id: Type.Optional(Type.String()),
    payload: Type.Object({
      code: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
      title: Type.Optional(Type.String()),
      detail: Type.Optional(Type.String()),
    }),
  }),
  stop: Type.Object({
    event: Type.Literal('stop'),
    sequence_number: Type.Optional(Counter),
    stream_id: Type.Optional(Type.String()),
    stop: Type.Optional(Type.Object({ call_control_id: Type.Optional(Type.String()) })),
  }),
} as const;

type Schemas = typeof TelnyxMediaSchemas;
export type TelnyxMediaEvent = keyof Schemas;
export type TelnyxMediaMessage = { [K in TelnyxMediaEvent]: Static<Schemas[K]> }[TelnyxMediaEvent];
export type TelnyxMediaFormat = Static<typeof MediaFormatSchema>;

const mediaCheckers = Object.fromEntries(
  Object.entries(TelnyxMediaSchemas).map(([event, schema]) => [
    event,
    TypeCompiler.Compile(schema as TSchema),
  ]),
) as Record<TelnyxMediaEvent, ReturnType<typeof TypeCompiler.Compile>>;

function firstError(checker: ReturnType<typeof TypeCompiler.Compile>, value: unknown): string {
  const error = checker.Errors(value).First();
  return error ? `${error.path || '/'}: ${error.message}` : 'invalid';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
}

/**
 * One media WebSocket message; `undefined` for an event this version does not know (Telnyx adds
 * events; they are ignored, not fatal). Throws on bad JSON, a missing `event`, or a known event
 * whose fields do not match.
 */
export function parseMediaMessage(text: string): TelnyxMediaMessage | undefined {
  const value = parseJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a JSON object');
  const event = (value as { event?: unknown }).event;
  if (typeof event !== 'string') throw new Error('no "event"');
  if (!Object.hasOwn(mediaCheckers, event)) return undefined;
  const checker = mediaCheckers[event as TelnyxMediaEvent];
  if (!checker.Check(value)) throw new Error(`bad "${event}" message at ${firstError(checker, value)}`);
  return value as TelnyxMediaMessage;
}

/** A decimal counter from the wire as a number. */
export function counterValue(value: string | number): number {
  return typeof value === 'number' ? value : Number.parseInt(value, 10);
}

// ---- Call Control webhooks --------------------------------------------------------------------

const WebhookPayloadSchema = Type.Object({
  call_control_id: Id,
  call_session_id: Type.Optional(Type.String()),
  call_leg_id: Type.Optional(Type.String()),
  client_state: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  connection_id: Type.Optional(Type.String()),
  direction: Type.Optional(Type.String()),
  from: Type.Optional(Type.String()),
  to: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  hangup_cause: Type.Optional(Type.String()),
  hangup_source: Type.Optional(Type.String()),
  sip_hangup_cause: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  result: Type.Optional(Type.String()),
  digit: Type.Optional(Type.String()),
});

export const TelnyxWebhookSchema = Type.Object({
  data: Type.Object({
    event_type: Type.String({ minLength: 1, maxLength: 128 }),
    id: Type.Optional(Type.String()),
    occurred_at: Type.Optional(Type.String()),
    record_type: Type.Optional(Type.String()),
    payload: WebhookPayloadSchema,
  }),
  meta: Type.Optional(Type.Object({})),
});
export type TelnyxWebhook = Static<typeof TelnyxWebhookSchema>;
export type TelnyxWebhookPayload = Static<typeof WebhookPayloadSchema>;

const webhookChecker = TypeCompiler.Compile(TelnyxWebhookSchema);

/** A Call Control webhook body (after its signature was checked); throws when malformed. */
export function parseWebhook(rawBody: Buffer | string): TelnyxWebhook {
  const value = parseJson(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  if (!webhookChecker.Check(value))
    throw new Error(`bad Telnyx webhook at ${firstError(webhookChecker, value)}`);
  return value;
}

/** Telnyx's REST error body: `{errors:[{code:"90018", title, detail}]}`. */
export const TelnyxErrorBodySchema = Type.Object({
  errors: Type.Array(
    Type.Object({
      code: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
      title: Type.Optional(Type.String()),
      detail: Type.Optional(Type.String()),
    }),
  ),
});
export const telnyxErrorBodyChecker = TypeCompiler.Compile(TelnyxErrorBodySchema);

/** `POST /v2/calls` answers `{data:{call_control_id, call_leg_id, call_session_id, is_alive}}`. */
export const TelnyxDialResponseSchema = Type.Object({
  data: Type.Object({ call_control_id: Id }),
});
export const telnyxDialResponseChecker = TypeCompiler.Compile(TelnyxDialResponseSchema);
