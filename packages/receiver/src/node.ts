/**
 * node:http handler, also the base of the Express and Fastify adapters: reads the raw body from
 * the request stream (up to `maxBodyBytes`), or takes the raw bytes a body parser kept.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleWebhook, type WebhookAnswer, type WebhookHandlerOptions } from './handler.js';

export interface NodeHandlerOptions extends WebhookHandlerOptions {
  /** Largest body read, bytes; default 16 MiB (an end-of-call report carries the whole call). */
  maxBodyBytes?: number;
}

export class BodyTooLargeError extends Error {}

export async function readRawBody(req: IncomingMessage, maxBytes = 16 * 1024 * 1024): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
    size += bytes.length;
    if (size > maxBytes) throw new BodyTooLargeError(`body larger than ${maxBytes} bytes`);
    chunks.push(bytes);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function writeAnswer(res: ServerResponse, answer: WebhookAnswer): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** `(req, res) => void` for `http.createServer`. */
export function nodeHandler(
  options: NodeHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      let body: Uint8Array;
      try {
        body = await readRawBody(req, options.maxBodyBytes);
      } catch (err) {
        const tooLarge = err instanceof BodyTooLargeError;
        return writeAnswer(res, {
          status: tooLarge ? 413 : 400,
          body: {
            error: { code: tooLarge ? 'body_too_large' : 'bad_body', message: (err as Error).message },
          },
        });
      }
      writeAnswer(res, await handleWebhook(options, body, req.headers));
    })();
  };
}
