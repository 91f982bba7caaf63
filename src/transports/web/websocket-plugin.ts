import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../shared/api-error.js';
import { MAX_TEXT_MESSAGE_BYTES } from './web-transport.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route takes WebSocket upgrades (its `wsHandler`); every other route refuses them. */
    webSocket?: boolean;
  }
}

/**
 * WebSocket support for the whole server. @fastify/websocket listens to every upgrade on the
 * HTTP server, so it must be registered at the root, before any route: then its hooks see
 * every request and destroy the socket of an upgrade once answered. Registered inside an
 * encapsulated plugin, an upgrade to any other route was answered and its socket never closed.
 * An upgrade to a route without `config.webSocket` is refused with a 400 in the API's error
 * shape (the socket is then closed); on shutdown, sockets still open are terminated (live
 * calls have ended before, with their terminal events).
 */
export async function registerWebSocketSupport(app: FastifyInstance): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: MAX_TEXT_MESSAGE_BYTES },
    preClose: (done) => {
      const wss = app.websocketServer;
      for (const client of wss.clients) client.terminate();
      wss.close();
      done();
    },
  });
  app.addHook('onRequest', async (request) => {
    if (request.ws && request.routeOptions.config?.webSocket !== true) {
      throw new ApiError(
        400,
        'websocket_not_supported',
        `${request.method} ${request.url.split('?')[0]?.slice(0, 200)} does not accept WebSocket upgrades`,
      );
    }
  });
}
