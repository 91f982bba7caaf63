/**
 * Call control, inside the authenticated `/v1` scope: `POST /calls` creates a web call (the Call
 * plus how to join it) or places an outbound phone call (`phoneNumberId`, through the phone entry
 * point); `POST /calls/:id/end` ends a call wherever it runs; `GET /calls/:id/recording`
 * downloads its recording. `recordingLinkRoutes` serves signed recording links at the root.
 */
import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AssistantCreateSchema } from '../contract/assistant-schema.js';
import { CallSchema } from '../contract/call-schema.js';
import type { Db } from '../db/database.js';
import { ApiError, ErrorResponseSchema, notFound } from '../shared/api-error.js';
import type { CallService } from './call-service.js';
import { findCall, toCall } from './call-store.js';

/** E.164: a plus, then up to 15 digits, the first not 0. */
export const E164_PATTERN = '^\\+[1-9][0-9]{1,14}$';
const e164 = new RegExp(E164_PATTERN);

const CreateCallBody = Type.Object(
  {
    assistantId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    assistant: Type.Optional(AssistantCreateSchema),
    assistantOverrides: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    phoneNumberId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'An outbound phone call from this Parley phone number to `customer.number`',
      }),
    ),
    customer: Type.Optional(
      Type.Object(
        {
          number: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 64,
              description: 'Web calls: a label; phone calls: the number to call (E.164)',
            }),
          ),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const JoinSchema = Type.Object(
  {
    url: Type.String({
      description: 'WebSocket URL, token included; see /v1/schemas/web-call for the protocol',
    }),
    token: Type.String({ description: 'single use' }),
    expiresAt: Type.String({ format: 'date-time' }),
    protocol: Type.String(),
  },
  { description: 'web calls only' },
);

const CreatedCallSchema = Type.Object({
  ...CallSchema.properties,
  join: Type.Optional(JoinSchema),
});
const EndRequestedSchema = Type.Object({
  ...CallSchema.properties,
  endRequestedAt: Type.String({ format: 'date-time', description: 'when the end was requested' }),
  message: Type.String(),
});
const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema };
const tags = ['calls'];
/** A recording, streamed (never serialised: the reply is `audio/wav`). */
const WavFile = Type.Unsafe<Readable>({ type: 'string', format: 'binary', description: 'audio/wav' });
const CallIdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

export const callControlRoutes: FastifyPluginAsyncTypebox<{ db: Db; calls: CallService }> = async (
  app,
  opts,
) => {
  const { db, calls } = opts;

  app.post(
    '/calls',
    {
      schema: {
        tags,
        summary: 'Create a web call, or place an outbound phone call',
        description:
          'A web call (`WC-<uuid>`) with a stored assistant (`assistantId`) or an inline one (`assistant`), optionally overridden: the Call (status `queued`) and `join`, a WebSocket URL with a single-use token valid for 60 s; a call nobody joins in time ends as `no-answer`. With `phoneNumberId` and `customer.number` (E.164): an outbound phone call (`PC-<uuid>`) from that number, placed through its carrier; the Call (status `queued`), whose lifecycle the status-update events follow.',
        body: CreateCallBody,
        response: { 201: CreatedCallSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { phoneNumberId, customer, ...rest } = request.body;
      if (phoneNumberId === undefined) {
        const { call, join } = await calls.createWebCall(request.team.id, request.body);
        return reply.status(201).send({ ...call, join });
      }
      const number = customer?.number;
      if (number === undefined)
        throw new ApiError(
          400,
          'invalid_request',
          'customer.number is required for a phone call',
          'customer.number',
        );
      if (!e164.test(number))
        throw new ApiError(
          400,
          'invalid_request',
          'customer.number must be an E.164 number (+ and up to 15 digits)',
          'customer.number',
        );
      if (!calls.outbound)
        throw new ApiError(400, 'invalid_request', 'phone calls are not configured', 'phoneNumberId');
      const { call } = await calls.outbound.place(request.team.id, {
        ...rest,
        phoneNumberId,
        customer: { ...customer, number },
      });
      return reply.status(201).send(call);
    },
  );

  app.post(
    '/calls/:id/end',
    {
      schema: {
        tags,
        summary: 'End a call',
        description:
          'Ends a live call (`callEndTriggerBy: system`), whichever server runs it. **200**: the call ended (here, with its terminal events recorded; or, when the server running it had stopped, finished through crash recovery); ending a call that has already ended returns it unchanged. **202**: another live server runs the call; the request is stored and signalled to that server (PostgreSQL NOTIFY), which ends the call at once, or at its next heartbeat (`PARLEY_CALL_HEARTBEAT_MS`) if the signal was lost; the body is the call as it is now, with `endRequestedAt`.',
        params: CallIdParams,
        response: { 200: CallSchema, 202: EndRequestedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const outcome = await calls.end(request.team.id, request.params.id);
      if (outcome.kind === 'not_found') throw notFound('call');
      if (outcome.kind === 'ended') return outcome.call;
      return reply.status(202).send({
        ...outcome.call,
        endRequestedAt: outcome.endRequestedAt,
        message: 'the call runs on another server, which was told to end it',
      });
    },
  );

  app.get(
    '/calls/:id/recording',
    {
      schema: {
        tags,
        summary: "Download a call's recording",
        description:
          "The WAV recording of a finished call (16-bit PCM at the call's sample rate; `channels=stereo`: caller left, assistant right, when the assistant records stereo). Streams the file from local storage, or redirects (302) to a presigned URL of the S3-compatible store.",
        params: CallIdParams,
        querystring: Type.Object({
          channels: Type.Optional(Type.Union([Type.Literal('mono'), Type.Literal('stereo')])),
        }),
        response: {
          200: WavFile,
          404: ErrorResponseSchema,
          401: ErrorResponseSchema,
          400: ErrorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const row = await findCall(db, request.team.id, request.params.id);
      if (!row) throw notFound('call');
      const stored = await calls.recordings?.locate(toCall(row), request.query.channels === 'stereo');
      if (!stored) throw notFound('recording');
      if (stored.kind === 'redirect') return reply.redirect(stored.url, 302);
      return reply
        .header('content-type', 'audio/wav')
        .header('content-length', stored.size)
        .header('cache-control', 'private, no-store')
        .send(stored.open());
    },
  );
};

/** `GET /recordings/:file`: a recording through its signed link; at the root, no API key. */
export const recordingLinkRoutes: FastifyPluginAsyncTypebox<{ calls: CallService }> = async (app, opts) => {
  app.get(
    '/recordings/:file',
    {
      schema: {
        tags: ['calls'],
        summary: 'A recording through a signed link',
        description:
          'The `recordingUrl` of a call recorded on local disk: no API key, the link is signed (HMAC) and expires. A wrong signature or an expired link answers 403.',
        security: [],
        params: Type.Object({ file: Type.String({ maxLength: 100 }) }),
        querystring: Type.Object({
          expires: Type.Optional(Type.String({ maxLength: 20 })),
          sig: Type.Optional(Type.String({ maxLength: 200 })),
        }),
        response: { 200: WavFile, 403: ErrorResponseSchema, 404: ErrorResponseSchema },
      },
    },
    async (request, reply) => {
      const recordings = opts.calls.recordings;
      const { file } = request.params;
      if (!recordings?.verify(file, request.query.expires, request.query.sig)) {
        throw new ApiError(403, 'forbidden', 'invalid or expired recording link');
      }
      const stored = await recordings.localFile(file);
      if (stored?.kind !== 'file') throw notFound('recording');
      return reply
        .header('content-type', 'audio/wav')
        .header('content-length', stored.size)
        .header('cache-control', 'private, no-store')
        .send(stored.open());
    },
  );
};
