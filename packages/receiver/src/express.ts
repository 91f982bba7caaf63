/**
 * Express (4 and 5) handler. Mount it WITHOUT `express.json()` in front (that parser replaces the
 * raw body with an object and the signature can no longer be checked), or behind
 * `express.raw({ type: 'application/json' })`, whose Buffer `req.body` is used as is. No
 * dependency on express: the types are structural.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleWebhook } from './handler.js';
import { type NodeHandlerOptions, readRawBody, writeAnswer } from './node.js';

type ExpressRequest = IncomingMessage & { body?: unknown; rawBody?: unknown };

export function expressHandler(
  options: NodeHandlerOptions,
): (req: ExpressRequest, res: ServerResponse, next?: (err?: unknown) => void) => void {
  return (req, res, next) => {
    void (async () => {
      let body: Uint8Array;
      if (req.body instanceof Uint8Array) body = req.body;
      else if (req.rawBody instanceof Uint8Array) body = req.rawBody;
      else if (
        req.body !== undefined &&
        typeof req.body === 'object' &&
        Object.keys(req.body as object).length > 0
      ) {
        const err = new Error(
          'the body was already parsed (express.json()): mount the webhook route before it, or use express.raw({ type: "application/json" })',
        );
        if (next) return next(err);
        return writeAnswer(res, {
          status: 500,
          body: { error: { code: 'body_parsed', message: err.message } },
        });
      } else {
        try {
          body = await readRawBody(req, options.maxBodyBytes);
        } catch (err) {
          return writeAnswer(res, {
            status: 413,
            body: { error: { code: 'body_too_large', message: String(err) } },
          });
        }
      }
      writeAnswer(res, await handleWebhook(options, body, req.headers));
    })().catch((err) => next?.(err));
  };
}
