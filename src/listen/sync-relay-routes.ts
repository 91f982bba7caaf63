import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorResponseSchema } from '../shared/api-error.js';
import type { SyncRelay } from './sync-relay.js';

/**
 * `GET /v1/listen/ws`: the WebSocket over which `parley listen --tools` answers the team's
 * synchronous requests (see sync-relay.ts). Register inside the authenticated `/v1` scope.
 */
export async function syncRelayRoutes(root: FastifyInstance, opts: { relay: SyncRelay }): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.route({
    method: 'GET',
    url: '/listen/ws',
    config: { webSocket: true },
    schema: {
      tags: ['events'],
      summary: 'Answer tool-calls and assistant-request through `parley listen --tools` (WebSocket)',
      description:
        'While connected, the team\'s `tool-calls` and `assistant-request` (of the assistants in `assistantId`, comma-separated; all when absent) are sent over this socket as `{"type": "request", "id", "timeoutMs", "message"}` and answered with `{"type": "reply", "id", "status", "body"}` within the request\'s budget, instead of being posted to the configured URL. A plain GET answers 426.',
      querystring: Type.Object({ assistantId: Type.Optional(Type.String({ maxLength: 2000 })) }),
      response: { 426: ErrorResponseSchema },
    },
    handler: async (_request, reply) =>
      reply
        .status(426)
        .header('upgrade', 'websocket')
        .send({
          error: {
            code: 'upgrade_required',
            message: 'connect with a WebSocket client (parley listen --tools)',
          },
        }),
    wsHandler: (socket, request) => {
      const assistantIds = (request.query.assistantId ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      opts.relay.attach(request.team.id, socket, { assistantIds });
      socket.send(JSON.stringify({ type: 'ready', assistantIds }));
    },
  });
}
