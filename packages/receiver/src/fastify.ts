/**
 * Fastify plugin: registers `POST <path>` in its own encapsulated context, with a JSON content
 * type parser that keeps the raw bytes (the rest of the app keeps its own JSON parser).
 * `app.register(parleyWebhooks, { path: '/webhooks/parley', secret, onEvent })`.
 * No dependency on fastify: the types are structural.
 */
import { handleWebhook } from './handler.js';
import type { NodeHandlerOptions } from './node.js';

export interface FastifyWebhookOptions extends NodeHandlerOptions {
  /** Route path; default `/webhooks/parley`. */
  path?: string;
}

interface FastifyLike {
  addContentTypeParser(
    type: string,
    opts: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (req: unknown, body: Buffer, done: (err: Error | null, body?: unknown) => void) => void,
  ): void;
  post(
    path: string,
    handler: (
      request: { body: unknown; headers: Record<string, string | string[] | undefined> },
      reply: { code(status: number): { send(body: unknown): unknown } },
    ) => Promise<unknown>,
  ): void;
}

export async function parleyWebhooks(app: FastifyLike, options: FastifyWebhookOptions): Promise<void> {
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: options.maxBodyBytes ?? 16 * 1024 * 1024 },
    (_req, body, done) => done(null, body),
  );
  app.post(options.path ?? '/webhooks/parley', async (request, reply) => {
    const body = request.body instanceof Uint8Array ? request.body : new Uint8Array();
    const answer = await handleWebhook(options, body, request.headers);
    return reply.code(answer.status).send(answer.body);
  });
}
