/**
 * Twilio Media Streams over one WebSocket, as Twilio documents it ("Media Streams – WebSocket
 * Messages"; telephony.md §1.1). JSON text messages, each with an `event`:
 * Twilio → us: `connected`, `start` (stream and call ids, `customParameters` from
 * `<Parameter>`, `mediaFormat` audio/x-mulaw 8000 Hz mono), `media` (base64 µ-law, `timestamp`
 * in ms since the stream started, 20 ms per message), `dtmf` (bidirectional streams only),
 * `mark` (echoed when the audio before it has played, or at once when a `clear` dropped it),
 * `stop`. Us → Twilio: `media`, `mark`, `clear`. Every incoming message is checked against
 * these schemas; anything else throws and the socket is closed with the reason.
 */
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const Str = (maxLength = 128) => Type.String({ maxLength });
/** Twilio sends counters as decimal strings ("1", "2" …). */
const Counter = Type.String({ pattern: '^[0-9]{1,15}$' });
const StreamSid = Type.String({ pattern: '^MZ[0-9A-Za-z]{1,64}$' });
const CallSid = Type.String({ pattern: '^CA[0-9A-Za-z]{1,64}$' });
const AccountSid = Type.String({ pattern: '^AC[0-9A-Za-z]{1,64}$' });

export const ConnectedSchema = Type.Object({
  event: Type.Literal('connected'),
  protocol: Type.Optional(Str()),
  version: Type.Optional(Str()),
});

export const StartSchema = Type.Object({
  event: Type.Literal('start'),
  sequenceNumber: Type.Optional(Counter),
  streamSid: StreamSid,
  start: Type.Object({
    streamSid: Type.Optional(StreamSid),
    accountSid: AccountSid,
    callSid: CallSid,
    tracks: Type.Optional(Type.Array(Str(32), { maxItems: 4 })),
    customParameters: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 1024 }), {
        maxProperties: 32,
      }),
    ),
    mediaFormat: Type.Object({
      encoding: Str(),
      sampleRate: Type.Integer(),
      channels: Type.Integer(),
    }),
  }),
});

export const MediaSchema = Type.Object({
  event: Type.Literal('media'),
  sequenceNumber: Type.Optional(Counter),
  streamSid: StreamSid,
  media: Type.Object({
    track: Type.Optional(Str(32)),
    chunk: Type.Optional(Counter),
    timestamp: Counter,
    payload: Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 60_000 }),
  }),
});

export const DtmfSchema = Type.Object({
  event: Type.Literal('dtmf'),
  sequenceNumber: Type.Optional(Counter),
  streamSid: StreamSid,
  dtmf: Type.Object({
    track: Type.Optional(Str(32)),
    digit: Type.String({ pattern: '^[0-9*#A-D]$' }),
  }),
});

export const MarkSchema = Type.Object({
  event: Type.Literal('mark'),
  sequenceNumber: Type.Optional(Counter),
  streamSid: StreamSid,
  mark: Type.Object({ name: Str(256) }),
});

export const StopSchema = Type.Object({
  event: Type.Literal('stop'),
  sequenceNumber: Type.Optional(Counter),
  streamSid: StreamSid,
  stop: Type.Optional(
    Type.Object({ accountSid: Type.Optional(AccountSid), callSid: Type.Optional(CallSid) }),
  ),
});

export type TwilioConnected = Static<typeof ConnectedSchema>;
export type TwilioStart = Static<typeof StartSchema>;
export type TwilioMedia = Static<typeof MediaSchema>;
export type TwilioDtmf = Static<typeof DtmfSchema>;
export type TwilioMark = Static<typeof MarkSchema>;
export type TwilioStop = Static<typeof StopSchema>;
export type TwilioInbound =
  | TwilioConnected
  | TwilioStart
  | TwilioMedia
  | TwilioDtmf
  | TwilioMark
  | TwilioStop;

const checkers = {
  connected: TypeCompiler.Compile(ConnectedSchema),
  start: TypeCompiler.Compile(StartSchema),
  media: TypeCompiler.Compile(MediaSchema),
  dtmf: TypeCompiler.Compile(DtmfSchema),
  mark: TypeCompiler.Compile(MarkSchema),
  stop: TypeCompiler.Compile(StopSchema),
} as const;

/** Parses one text message from Twilio; throws with the reason when it is not the dialect. */
export function parseTwilioMessage(text: string): TwilioInbound {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a JSON object');
  const event = (value as { event?: unknown }).event;
  if (typeof event !== 'string' || !Object.hasOwn(checkers, event))
    throw new Error(`unknown event ${JSON.stringify(event)?.slice(0, 40)}`);
  const checker = checkers[event as keyof typeof checkers];
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    throw new Error(`${event}: ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}`);
  }
  return value as TwilioInbound;
}

// ---------------------------------------------------------------- us → Twilio
export const mediaMessage = (streamSid: string, payload: Uint8Array): string =>
  JSON.stringify({
    event: 'media',
    streamSid,
    media: {
      payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64'),
    },
  });
export const markMessage = (streamSid: string, name: string): string =>
  JSON.stringify({ event: 'mark', streamSid, mark: { name } });
export const clearMessage = (streamSid: string): string => JSON.stringify({ event: 'clear', streamSid });

// ---------------------------------------------------------------- webhooks (form-encoded)
/** Parameters of a Twilio webhook: the form body of a POST, else the query of a GET. */
export function webhookParams(method: string, url: string, rawBody: Buffer): URLSearchParams {
  if (method.toUpperCase() === 'GET') {
    try {
      return new URL(url).searchParams;
    } catch {
      return new URLSearchParams();
    }
  }
  return new URLSearchParams(rawBody.toString('utf8'));
}

export const CALL_SID_PATTERN = /^CA[0-9A-Za-z]{1,64}$/;
export const E164_PATTERN = /^\+[1-9][0-9]{1,14}$/;
export const SIP_URI_PATTERN = /^sips?:[^\s<>"'&]{1,250}$/;
