import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { MessageMetricsSchema } from '../../contract/conversation-schema.js';
import { defaultInputLimits } from '../../shared/input-limits.js';
import { UNSTORABLE_TEXT } from '../../shared/storable-text.js';

/**
 * The web-call protocol, version 1, over one WebSocket. Text frames carry JSON messages, each
 * with a `type`; binary frames carry audio: mono PCM16 little-endian at the sample rate agreed
 * in `hello`, exactly one frame (`sampleRate × frameMs / 1000` samples) per WebSocket message.
 *
 * Client → server: `hello` first, then binary audio frames, `user-text`, `mark` (ack: audio up
 * to this mark has played), `say`, `end`.
 * Server → client: `ready`, `status`, binary audio frames (20 ms each), `mark` (ack it when
 * the audio before it has played), `clear` (stop playback now, drop queued audio),
 * `transcript` (partial and final), `assistant-text`, `metrics`, `error`.
 *
 * Any violation closes the socket with a code from `CloseCodes` and a reason; the call then
 * ends with its terminal events.
 */
export const PROTOCOL_VERSION = 1;

export const CloseCodes = {
  /** The call ended normally. */
  normal: 1000,
  /** A text message that is not JSON or not valid UTF-8, or a message that does not match its schema. */
  invalidPayload: 1007,
  /** A message larger than the limit. */
  tooBig: 1009,
  /** Unknown message `type`. */
  unknownType: 4001,
  /** Audio or any other message before `hello`, or a second `hello`. */
  helloFirst: 4002,
  /** A binary frame whose size is not one audio frame. */
  wrongFrameSize: 4003,
  /** `hello` asked for a protocol version this server does not speak. */
  unsupportedVersion: 4004,
  /** No `hello` within the hello timeout (10 s by default); the call ends `no-answer`. */
  helloTimeout: 4005,
  /** A server ping went unanswered (no pong within the limit): the client is gone. */
  pongTimeout: 4006,
  /** `user-text` / `say` faster than the per-call rate (2 a second, bursts of 10, by default). */
  rateLimited: 4007,
  /** A per-call limit was reached: user turns (500) or conversation size (200,000 characters). */
  callLimitReached: 4008,
  /** Another server took the call over (it stalled past the recovery window); 1012: service restart. */
  takenOver: 1012,
  /** Missing, unknown or expired join token. */
  badToken: 4401,
  /** The call does not exist. */
  notFound: 4404,
  /** The call already has a client, or has ended. */
  conflict: 4409,
} as const;

const MAX_TEXT = defaultInputLimits.maxTextChars;
const lit = <T extends string | number>(v: T) => Type.Literal(v);

// ---------------------------------------------------------------- client → server
export const HelloSchema = Type.Object(
  {
    type: lit('hello'),
    version: Type.Integer({ minimum: 1, description: 'protocol version; this server speaks 1' }),
    encoding: Type.Optional(Type.Literal('pcm16', { default: 'pcm16' })),
    sampleRate: Type.Union([lit(8000), lit(16000)], { description: 'Hz, both directions' }),
    frameMs: Type.Optional(
      Type.Union([lit(10), lit(20), lit(30)], { default: 20, description: 'incoming frame' }),
    ),
    audioOutput: Type.Optional(
      Type.Boolean({ default: true, description: 'false: text-only client; no audio is sent' }),
    ),
    marks: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'the client acks marks when played; false: audio counts as played when sent',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ClientMessageSchemas = {
  hello: HelloSchema,
  'user-text': Type.Object(
    { type: lit('user-text'), text: Type.String({ minLength: 1, maxLength: MAX_TEXT }) },
    { additionalProperties: false, description: 'what the user says, as text (chat and tests)' },
  ),
  mark: Type.Object(
    { type: lit('mark'), id: Type.String({ minLength: 1, maxLength: 64 }) },
    { additionalProperties: false, description: 'audio up to this mark has played' },
  ),
  say: Type.Object(
    { type: lit('say'), text: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_TEXT })) },
    {
      additionalProperties: false,
      description:
        "speak this now (without text: the welcome message); text only when the assistant's clientSayEnabled is true",
    },
  ),
  end: Type.Object({ type: lit('end') }, { additionalProperties: false, description: 'hang up' }),
} as const;

export const ClientMessageSchema = Type.Union(Object.values(ClientMessageSchemas), {
  $id: 'parley-web-call-client-message',
  title: 'Web call: client to server (text frames)',
});
export type ClientMessage = Static<typeof ClientMessageSchema>;
export type ClientMessageType = keyof typeof ClientMessageSchemas;

// ---------------------------------------------------------------- server → client
export const ServerMessageSchemas = {
  ready: Type.Object(
    {
      type: lit('ready'),
      version: lit(PROTOCOL_VERSION),
      callId: Type.String(),
      sampleRate: Type.Union([lit(8000), lit(16000)]),
      frameMs: Type.Literal(20, { description: 'outgoing audio frame' }),
    },
    { additionalProperties: false },
  ),
  status: Type.Object(
    {
      type: lit('status'),
      status: Type.String(),
      phoneCallStatus: Type.String(),
      reason: Type.String(),
      callEndTriggerBy: Type.String(),
    },
    { additionalProperties: false },
  ),
  mark: Type.Object({ type: lit('mark'), id: Type.String() }, { additionalProperties: false }),
  clear: Type.Object({ type: lit('clear') }, { additionalProperties: false }),
  transcript: Type.Object(
    {
      type: lit('transcript'),
      final: Type.Boolean(),
      text: Type.String(),
      messageId: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  'assistant-text': Type.Object(
    {
      type: lit('assistant-text'),
      messageId: Type.String(),
      text: Type.String(),
      final: Type.Boolean({
        description: 'false: a sentence as it starts playing; true: the message as stored',
      }),
      interrupted: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  metrics: Type.Object(
    {
      type: lit('metrics'),
      messageId: Type.String(),
      role: Type.Union([lit('user'), lit('assistant')]),
      metrics: MessageMetricsSchema,
    },
    { additionalProperties: false },
  ),
  error: Type.Object(
    { type: lit('error'), code: Type.String(), message: Type.String() },
    { additionalProperties: false },
  ),
} as const;

export const ServerMessageSchema = Type.Union(Object.values(ServerMessageSchemas), {
  $id: 'parley-web-call-server-message',
  title: 'Web call: server to client (text frames)',
});
export type ServerMessage = Static<typeof ServerMessageSchema>;

/** The protocol as one JSON Schema document (served at /v1/schemas/web-call). */
export const webCallProtocolSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: `Parley web-call protocol v${PROTOCOL_VERSION}`,
  description:
    'One WebSocket per call. Text frames: JSON messages below. Binary frames: mono PCM16 little-endian audio, one frame per message (client: sampleRate×frameMs/1000 samples as agreed in hello; server: 20 ms).',
  closeCodes: CloseCodes,
  clientMessage: ClientMessageSchema as TSchema,
  serverMessage: ServerMessageSchema as TSchema,
};

const checkers = Object.fromEntries(
  Object.entries(ClientMessageSchemas).map(([type, schema]) => [
    type,
    TypeCompiler.Compile(schema as TSchema),
  ]),
) as Record<ClientMessageType, ReturnType<typeof TypeCompiler.Compile>>;

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; code: number; reason: string };

/** Parses one text frame: JSON, a known `type`, and that type's schema. */
export function parseClientMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: CloseCodes.invalidPayload, reason: 'invalid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: CloseCodes.invalidPayload, reason: 'a message must be a JSON object' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') {
    return { ok: false, code: CloseCodes.invalidPayload, reason: 'a message needs a string "type"' };
  }
  if (!Object.hasOwn(checkers, type)) {
    return { ok: false, code: CloseCodes.unknownType, reason: `unknown message type "${type.slice(0, 40)}"` };
  }
  const checker = checkers[type as ClientMessageType];
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    const where = first?.path || '/';
    return {
      ok: false,
      code: CloseCodes.invalidPayload,
      reason: `invalid ${type}: ${where} ${first?.message ?? 'is invalid'}`.slice(0, 120),
    };
  }
  const said = (value as { text?: unknown }).text;
  if (typeof said === 'string' && UNSTORABLE_TEXT.test(said)) {
    return {
      ok: false,
      code: CloseCodes.invalidPayload,
      reason: `invalid ${type}: /text holds a NUL character or an unpaired surrogate`,
    };
  }
  return { ok: true, message: value as ClientMessage };
}
