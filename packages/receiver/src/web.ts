/**
 * Web-standard handler: `(request: Request) => Promise<Response>`, for Next.js route handlers,
 * Hono, Cloudflare Workers, Deno and Bun. Reads the raw body with `arrayBuffer()`.
 */
import { handleWebhook, type WebhookHandlerOptions } from './handler.js';

export function webhookHandler(options: WebhookHandlerOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'POST') {
      return Response.json({ error: { code: 'method_not_allowed', message: 'use POST' } }, { status: 405 });
    }
    const body = new Uint8Array(await request.arrayBuffer());
    const answer = await handleWebhook(options, body, request.headers);
    return Response.json(answer.body, { status: answer.status });
  };
}
