import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AssistantCreateSchema } from '../contract/assistant-schema.js';
import { CallSchema } from '../contract/call-schema.js';
import type { Db } from '../db/database.js';
import { ApiError, ErrorResponseSchema, notFound } from '../shared/api-error.js';
import { clientPageHtml } from '../transports/web/client-page.js';
import { CloseCodes, webCallProtocolSchema } from '../transports/web/protocol.js';
import { webCallProtocolDoc } from '../transports/web/protocol-doc.js';
import { WebSocketTransport } from '../transports/web/web-transport.js';
import type { CallService } from './call-service.js';
import { findCall, toCall } from './call-store.js';

/**
 * Call control: `POST /calls` creates a web call and returns the Call plus how to join it;
 * `POST /calls/:id/end` ends it. Register inside the authenticated `/v1` scope.
 */
const CreateCallBody = Type.Object(
  {
    assistantId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    assistant: Type.Optional(AssistantCreateSchema),
    assistantOverrides: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    customer: Type.Optional(
      Type.Object(
        {
          number: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const JoinSchema = Type.Object({
  url: Type.String({
    description: 'WebSocket URL, token included; see /v1/schemas/web-call for the protocol',
  }),
  token: Type.String({ description: 'single use' }),
  expiresAt: Type.String({ format: 'date-time' }),
  protocol: Type.String(),
});

const CreatedCallSchema = Type.Object({ ...CallSchema.properties, join: JoinSchema });
const EndRequestedSchema = Type.Object({
  ...CallSchema.properties,
  endRequestedAt: Type.String({ format: 'date-time', description: 'when the end was requested' }),
  message: Type.String(),
});
const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema };
const tags = ['calls'];

export async function callControlRoutes(
  app: FastifyInstance,
  opts: { db: Db; calls: CallService },
): Promise<void> {
  const { db, calls } = opts;

  app.post<{ Body: Static<typeof CreateCallBody> }>(
    '/calls',
    {
      schema: {
        tags,
        summary: 'Create a web call',
        description:
          'Creates a web call (`WC-<uuid>`) with a stored assistant (`assistantId`) or an inline one (`assistant`), optionally overridden. Returns the Call (status `queued`) and `join`: a WebSocket URL with a single-use token valid for 60 s. A call nobody joins in time ends as `no-answer`.',
        body: CreateCallBody,
        response: { 201: CreatedCallSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { call, join } = await calls.createWebCall(request.team.id, request.body);
      return reply.status(201).send({ ...call, join });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/calls/:id/end',
    {
      schema: {
        tags,
        summary: 'End a call',
        description:
          'Ends a live call (`callEndTriggerBy: system`), whichever server runs it. **200**: the call ended (here, with its terminal events recorded; or, when the server running it had stopped, finished through crash recovery); ending a call that has already ended returns it unchanged. **202**: another live server runs the call; the request is stored and signalled to that server (PostgreSQL NOTIFY), which ends the call at once, or at its next heartbeat (`PARLEY_CALL_HEARTBEAT_MS`) if the signal was lost; the body is the call as it is now, with `endRequestedAt`.',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
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

  app.get<{ Params: { id: string }; Querystring: { channels?: 'mono' | 'stereo' } }>(
    '/calls/:id/recording',
    {
      schema: {
        tags,
        summary: "Download a call's recording",
        description:
          "The WAV recording of a finished call (16-bit PCM at the call's sample rate; `channels=stereo`: caller left, assistant right, when the assistant records stereo). Streams the file from local storage, or redirects (302) to a presigned URL of the S3-compatible store.",
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        querystring: Type.Object({
          channels: Type.Optional(Type.Union([Type.Literal('mono'), Type.Literal('stereo')])),
        }),
        response: { 404: ErrorResponseSchema, 401: ErrorResponseSchema, 400: ErrorResponseSchema },
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
}

/**
 * The web-call WebSocket (`GET /v1/calls/:id/ws?token=…`) and the protocol's JSON Schema
 * (`GET /v1/schemas/web-call`). Register at the root, outside the bearer-auth scope: browsers
 * cannot set headers on a WebSocket, so the join token authenticates. WebSocket support
 * (`registerWebSocketSupport`) must be registered at the root first.
 */
export async function webCallSocketRoutes(app: FastifyInstance, opts: { calls: CallService }): Promise<void> {
  const { calls } = opts;
  if (!app.hasDecorator('websocketServer')) {
    throw new Error(
      'registerWebSocketSupport(app) must be registered at the root before webCallSocketRoutes',
    );
  }

  app.get(
    '/call',
    {
      schema: {
        tags: ['calls'],
        summary: 'A browser client for web calls',
        description: 'A page to talk to an assistant from the browser: API key, assistant, microphone.',
        security: [],
      },
    },
    async (_request, reply) => reply.type('text/html; charset=utf-8').send(clientPageHtml),
  );

  app.get(
    '/v1/schemas/web-call',
    {
      schema: {
        tags: ['calls'],
        summary: 'The web-call WebSocket protocol (JSON Schema)',
        description: webCallProtocolDoc,
        security: [],
      },
    },
    async () => webCallProtocolSchema,
  );

  app.get<{ Params: { file: string }; Querystring: { expires?: string; sig?: string } }>(
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
        response: { 403: ErrorResponseSchema, 404: ErrorResponseSchema },
      },
    },
    async (request, reply) => {
      const recordings = calls.recordings;
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

  app.route<{ Params: { id: string }; Querystring: { token?: string } }>({
    method: 'GET',
    url: '/v1/calls/:id/ws',
    config: { webSocket: true },
    schema: {
      tags: ['calls'],
      summary: 'Join a web call (WebSocket)',
      description: `${webCallProtocolDoc}\nA plain GET (no WebSocket upgrade) answers 426 Upgrade Required.`,
      security: [],
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) }),
      response: { 426: ErrorResponseSchema },
    },
    handler: async (_request, reply) =>
      reply
        .status(426)
        .header('upgrade', 'websocket')
        .header('connection', 'Upgrade')
        .send({
          error: {
            code: 'upgrade_required',
            message:
              'this is the web-call WebSocket: connect with a WebSocket client (see /v1/schemas/web-call)',
          },
        }),
    wsHandler: async (socket, request) => {
      // The join is checked in the database: what the client sends meanwhile is kept, in order.
      const early: [data: unknown, isBinary: boolean][] = [];
      const keep = (data: unknown, isBinary: boolean) => early.push([data, isBinary]);
      socket.on('message', keep);
      const joined = await calls.join(request.params.id, request.query.token).catch((error: unknown) => {
        request.log.error({ err: error }, 'joining a call failed');
        return { ok: false, code: 'conflict', reason: 'the call cannot be joined now' } as const;
      });
      socket.off('message', keep);
      if (joined.ok && socket.readyState !== socket.OPEN) {
        // The client left while its join was checked: nobody is on the call.
        void joined.session
          .end({ trigger: 'system', reason: 'The client left before joining', notConnected: 'no-answer' })
          .catch(() => {});
        return;
      }
      if (!joined.ok) {
        const code =
          joined.code === 'bad_token'
            ? CloseCodes.badToken
            : joined.code === 'not_found'
              ? CloseCodes.notFound
              : CloseCodes.conflict;
        socket.close(code, joined.reason);
        return;
      }
      try {
        const transport = new WebSocketTransport(socket, joined.session.id, calls.inputLimits);
        joined.session.attach(calls.transportFor(joined.session.id, transport));
        for (const [data, isBinary] of early) socket.emit('message', data, isBinary);
      } catch (error) {
        socket.close(
          CloseCodes.conflict,
          error instanceof Error ? error.message.slice(0, 120) : 'cannot join',
        );
      }
    },
  });
}
