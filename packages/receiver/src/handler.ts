/**
 * The framework-independent core of every handler: verify the raw body, parse it, run the
 * receiver's callback, and say what to answer. Adapters (node.ts, express.ts, fastify.ts, web.ts)
 * only read the raw body and write the answer.
 */
import type { WebhookEvent } from './generated/types.js';
import type { HeadersLike } from './headers.js';
import { type ParseOptions, parseEvent, WebhookParseError, type WireFormat } from './parse.js';
import {
  type RawBody,
  type VerifiedRequest,
  type VerifyOptions,
  verify,
  WebhookVerificationError,
} from './verify.js';

export interface WebhookContext {
  /** How the request was verified (undefined when no secret is configured). */
  verified: VerifiedRequest | undefined;
  format: WireFormat;
  rawBody: RawBody;
  headers: HeadersLike;
}

export interface WebhookHandlerOptions extends VerifyOptions, ParseOptions {
  /**
   * The assistant's `assistantServer.secret` (or a tool's `server.secret`). Required: pass
   * `insecureSkipVerification: true` explicitly to accept unsigned requests.
   */
  secret?: string;
  insecureSkipVerification?: boolean;
  /**
   * Called once per verified, valid event. Its return value is the reply body for `tool-calls`
   * and `assistant-request` (see replies.ts); for notifications it is ignored (answer 200).
   * A throw answers 500, so Parley retries the notification.
   */
  onEvent: (event: WebhookEvent, context: WebhookContext) => unknown;
}

export interface WebhookAnswer {
  status: number;
  body: unknown;
}

const errorBody = (code: string, message: string, field?: string) => ({
  error: { code, message, ...(field ? { field } : {}) },
});

/** Handles one request; never throws (errors become 4xx/5xx answers). */
export async function handleWebhook(
  options: WebhookHandlerOptions,
  rawBody: RawBody,
  headers: HeadersLike,
): Promise<WebhookAnswer> {
  let verified: VerifiedRequest | undefined;
  if (!options.insecureSkipVerification) {
    if (!options.secret)
      return { status: 500, body: errorBody('no_secret', 'the receiver has no secret configured') };
    try {
      verified = await verify(rawBody, headers, options.secret, options);
    } catch (err) {
      if (err instanceof WebhookVerificationError) {
        return { status: 401, body: errorBody(err.code, err.message, err.field) };
      }
      throw err;
    }
  }
  let parsed: ReturnType<typeof parseEvent>;
  try {
    parsed = parseEvent(rawBody, options);
  } catch (err) {
    if (err instanceof WebhookParseError)
      return { status: 400, body: errorBody(err.code, err.message, err.field) };
    throw err;
  }
  try {
    const reply = await options.onEvent(parsed.event, { verified, format: parsed.format, rawBody, headers });
    const type = parsed.event.message.type;
    if ((type === 'tool-calls' || type === 'assistant-request') && reply !== undefined) {
      return { status: 200, body: reply };
    }
    return { status: 200, body: { ok: true } };
  } catch (err) {
    return {
      status: 500,
      body: errorBody('handler_failed', err instanceof Error ? err.message : String(err)),
    };
  }
}
