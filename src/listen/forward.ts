import type { EventMessage } from '../contract/event-schemas.js';
import { buildSignedHeaders } from '../shared/webhook-signing.js';
import { serializeEvent } from '../webhooks/delivery/wire-format.js';

export interface ForwardResult {
  status: number | undefined;
  latencyMs: number;
  error: string | undefined;
  /** The local receiver's reply body (the first 64 KB). */
  body: string;
}

/**
 * POSTs one event to the local receiver with the body and headers a real delivery has
 * (`serializeEvent` and `buildSignedHeaders`, the outbox's own functions), signed now.
 */
export async function forwardEvent(
  message: EventMessage,
  opts: { url: string; secret: string | undefined; format: 'interactly' | 'hms'; timeoutMs: number },
): Promise<ForwardResult> {
  const body = serializeEvent(message, opts.format);
  const headers = buildSignedHeaders({
    eventId: message.id,
    eventType: message.type,
    timestampMs: Date.now(),
    body,
    ...(opts.secret ? { secret: opts.secret } : {}),
  });
  const started = performance.now();
  try {
    const res = await fetch(opts.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const text = (await res.text()).slice(0, 65_536);
    return {
      status: res.status,
      latencyMs: Math.round(performance.now() - started),
      error: undefined,
      body: text,
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const error =
      (err as Error).name === 'TimeoutError'
        ? `timed out after ${opts.timeoutMs} ms`
        : (cause ?? (err as Error).message);
    return { status: undefined, latencyMs: Math.round(performance.now() - started), error, body: '' };
  }
}
