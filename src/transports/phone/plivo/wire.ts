/**
 * Plivo Audio Streams, the WebSocket dialect (Plivo "Audio Streaming" docs; the message shapes as
 * Plivo's own stream SDK validates them, plivo-stream-sdk-node `types.ts`; cloudflare/agents
 * voice-providers/plivo; bolna output_handlers/telephony_providers/plivo.py).
 *
 * Plivo → us (JSON text): `start {sequenceNumber, start:{callId, streamId, accountId, tracks,
 * mediaFormat:{encoding, sampleRate}}}`, `media {sequenceNumber, streamId, media:{track,
 * timestamp, chunk, payload}}` (base64 audio), `dtmf {dtmf:{track, digit, timestamp}}`,
 * `playedStream {name}` (a checkpoint played), `clearedAudio` (a clearAudio done), and `stop`
 * (the stream ended; Plivo may also just close the socket).
 * Us → Plivo: `playAudio {media:{contentType, sampleRate, payload}}`, `checkpoint {streamId,
 * name}`, `clearAudio {streamId}`.
 * Every incoming message is checked against its schema; extra fields are allowed (Plivo adds
 * `extra_headers` and may add more), missing or mistyped ones throw.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { PhoneAudioFormat } from '../media-stream.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });
/** Plivo sends numbers for some counters and numeric strings for others; both are accepted. */
const Numeric = Type.Union([Type.Number(), Type.String({ pattern: '^[0-9]{1,20}$' })]);

export const StartMessage = Type.Object({
  event: Type.Literal('start'),
  sequenceNumber: Type.Optional(Numeric),
  start: Type.Object({
    callId: Id,
    streamId: Id,
    accountId: Type.Optional(Type.String({ maxLength: 128 })),
    tracks: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 4 })),
    mediaFormat: Type.Object({
      encoding: Type.String({ maxLength: 64 }),
      sampleRate: Numeric,
    }),
  }),
});

export const MediaMessage = Type.Object({
  event: Type.Literal('media'),
  sequenceNumber: Type.Optional(Numeric),
  streamId: Type.Optional(Id),
  media: Type.Object({
    track: Type.Optional(Type.String({ maxLength: 32 })),
    timestamp: Type.Optional(Numeric),
    chunk: Type.Optional(Numeric),
    payload: Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' }),
  }),
});

export const DtmfMessage = Type.Object({
  event: Type.Literal('dtmf'),
  sequenceNumber: Type.Optional(Numeric),
  streamId: Type.Optional(Id),
  dtmf: Type.Object({
    track: Type.Optional(Type.String({ maxLength: 32 })),
    digit: Type.String({ minLength: 1, maxLength: 32 }),
    timestamp: Type.Optional(Numeric),
  }),
});

export const PlayedStreamMessage = Type.Object({
  event: Type.Literal('playedStream'),
  sequenceNumber: Type.Optional(Numeric),
  streamId: Type.Optional(Id),
  name: Type.String({ maxLength: 256 }),
});

export const ClearedAudioMessage = Type.Object({
  event: Type.Literal('clearedAudio'),
  sequenceNumber: Type.Optional(Numeric),
  streamId: Type.Optional(Id),
});

export const StopMessage = Type.Object({
  event: Type.Literal('stop'),
  sequenceNumber: Type.Optional(Numeric),
  streamId: Type.Optional(Id),
});

export type PlivoStart = Static<typeof StartMessage>;
export type PlivoInbound =
  | PlivoStart
  | Static<typeof MediaMessage>
  | Static<typeof DtmfMessage>
  | Static<typeof PlayedStreamMessage>
  | Static<typeof ClearedAudioMessage>
  | Static<typeof StopMessage>;

const checkers = {
  start: TypeCompiler.Compile(StartMessage),
  media: TypeCompiler.Compile(MediaMessage),
  dtmf: TypeCompiler.Compile(DtmfMessage),
  playedStream: TypeCompiler.Compile(PlayedStreamMessage),
  clearedAudio: TypeCompiler.Compile(ClearedAudioMessage),
  stop: TypeCompiler.Compile(StopMessage),
} as const;

type Checker = {
  Check(value: unknown): boolean;
  Errors(value: unknown): Iterable<{ path: string; message: string }>;
};

function firstError(checker: Checker, value: unknown): string {
  for (const error of checker.Errors(value)) return `${error.path || '/'}: ${error.message}`;
  return 'invalid';
}

/** Parses one text message from Plivo; throws with a reason on anything malformed or unknown. */
export function parsePlivoMessage(text: string): PlivoInbound {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a JSON object');
  const event = (value as { event?: unknown }).event;
  if (typeof event !== 'string') throw new Error('no "event"');
  if (!Object.hasOwn(checkers, event)) throw new Error(`unknown event ${JSON.stringify(event.slice(0, 40))}`);
  const checker: Checker = checkers[event as keyof typeof checkers];
  if (!checker.Check(value)) throw new Error(`${event}: ${firstError(checker, value)}`);
  return value as PlivoInbound;
}

/** The audio format of a `start`'s `mediaFormat`; throws on one Parley does not speak. */
export function plivoAudioFormat(mediaFormat: PlivoStart['start']['mediaFormat']): PhoneAudioFormat {
  const rate = Number(mediaFormat.sampleRate);
  const encoding = mediaFormat.encoding.toLowerCase().replace(/;.*$/, '').trim();
  if (encoding === 'audio/x-mulaw' || encoding === 'audio/mulaw' || encoding === 'audio/pcmu') {
    if (rate !== 8000) throw new Error(`µ-law at ${rate} Hz (only 8000)`);
    return { encoding: 'mulaw', sampleRate: 8000 };
  }
  if (encoding === 'audio/x-l16' || encoding === 'audio/l16') {
    if (rate !== 8000 && rate !== 16000) throw new Error(`L16 at ${rate} Hz (8000 or 16000)`);
    return { encoding: 'l16', sampleRate: rate };
  }
  throw new Error(`unsupported audio encoding ${JSON.stringify(mediaFormat.encoding.slice(0, 40))}`);
}

/** The `contentType` of `playAudio` for a format. */
export function plivoContentType(format: PhoneAudioFormat): string {
  return format.encoding === 'l16' ? 'audio/x-l16' : 'audio/x-mulaw';
}

// ---- us → Plivo -------------------------------------------------------------------------------
export function playAudioMessage(format: PhoneAudioFormat, payload: Uint8Array): string {
  return JSON.stringify({
    event: 'playAudio',
    media: {
      contentType: plivoContentType(format),
      sampleRate: format.sampleRate,
      payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64'),
    },
  });
}

export function checkpointMessage(streamId: string, name: string): string {
  return JSON.stringify({ event: 'checkpoint', streamId, name });
}

export function clearAudioMessage(streamId: string): string {
  return JSON.stringify({ event: 'clearAudio', streamId });
}

/** Compiles a schema for the simulator's own checks of what Parley sends. */
export function compile<T extends TSchema>(schema: T) {
  return TypeCompiler.Compile(schema);
}

export const PlayAudioMessage = Type.Object({
  event: Type.Literal('playAudio'),
  media: Type.Object({
    contentType: Type.String(),
    sampleRate: Type.Number(),
    payload: Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' }),
  }),
});
export const CheckpointMessage = Type.Object({
  event: Type.Literal('checkpoint'),
  streamId: Id,
  name: Type.String(),
});
export const ClearAudioMessage = Type.Object({ event: Type.Literal('clearAudio'), streamId: Id });
