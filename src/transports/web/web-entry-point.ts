/**
 * The web entry point: the web-call WebSocket (`GET /v1/calls/:id/ws?token=…`), the protocol's
 * JSON Schema (`GET /v1/schemas/web-call`) and the browser client page (`GET /call`). At the root,
 * outside the API key check: browsers cannot set headers on a WebSocket, so the one-time media
 * token authenticates. WebSocket support (`registerWebSocketSupport`) must be registered at the
 * root first. It uses only the ports: `acceptMedia` on whichever server the client reaches.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorResponseSchema } from '../../shared/api-error.js';
import type { EntryPoint, EntryPointDeps, MediaAcceptance } from '../ports.js';
import { clientPageHtml } from './client-page.js';
import { CloseCodes, webCallProtocolSchema } from './protocol.js';
import { webCallProtocolDoc } from './protocol-doc.js';
import { WebSocketTransport } from './web-transport.js';

export const webEntryPoint: EntryPoint = {
  name: 'web',
  register: async (app, deps) => {
    await app.register(webCallRoutes, deps);
    return undefined;
  },
};

async function webCallRoutes(root: FastifyInstance, deps: EntryPointDeps): Promise<void> {
  if (!root.hasDecorator('websocketServer')) {
    throw new Error(
      'registerWebSocketSupport(app) must be registered at the root before the web entry point',
    );
  }
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

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

  app.route({
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
      // The token is checked in the database: what the client sends meanwhile is kept, in order.
      const early: [data: unknown, isBinary: boolean][] = [];
      const keep = (data: unknown, isBinary: boolean) => early.push([data, isBinary]);
      socket.on('message', keep);
      const accepted: MediaAcceptance = await deps.admission
        .acceptMedia(request.params.id, request.query.token)
        .catch((error: unknown) => {
          request.log.error({ err: error }, 'joining a call failed');
          return { ok: false, code: 'conflict', reason: 'the call cannot be joined now' } as const;
        });
      socket.off('message', keep);
      if (accepted.ok && socket.readyState !== socket.OPEN) {
        // The client left while its join was checked: nobody is on the call.
        void accepted.release('The client left before joining').catch(() => {});
        return;
      }
      if (!accepted.ok) {
        const code =
          accepted.code === 'bad_token'
            ? CloseCodes.badToken
            : accepted.code === 'not_found'
              ? CloseCodes.notFound
              : CloseCodes.conflict;
        socket.close(code, accepted.reason);
        return;
      }
      try {
        accepted.attach(new WebSocketTransport(socket, accepted.call.id, deps.inputLimits));
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
