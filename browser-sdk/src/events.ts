import { createParser } from 'eventsource-parser';
import { apiErrorFrom, ParleyApiError } from './errors.js';
import type { LiveEvent } from './types.js';

export interface EventStreamOptions {
  /** Only this call's events. */
  callId?: string;
  /** Stops the stream (the iterator then ends). */
  signal?: AbortSignal;
  /** The stream is connected (also after each reconnect). */
  onOpen?: () => void;
  /** The connection failed or dropped; `willRetry` false: it gave up (401, 403, 404). */
  onError?: (error: unknown, willRetry: boolean) => void;
}

export const defaultEventStreamOptions = {
  /** First reconnect delay; doubles on each failure up to `maxBackoffMs` (±20 % jitter). */
  initialBackoffMs: 500,
  maxBackoffMs: 15_000,
} as const;

interface StreamDeps {
  baseUrl: string;
  apiKey: string;
  fetch: typeof fetch;
}

function isLiveEvent(value: unknown): value is LiveEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.callId === 'string' &&
    typeof v.type === 'string' &&
    typeof v.sequence === 'number' &&
    typeof v.event === 'object' &&
    v.event !== null
  );
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The live events stream (`GET /v1/events/stream`, Server-Sent Events) as an async iterable.
 * fetch + a streaming SSE parser rather than EventSource, which cannot send the
 * `Authorization` header. Reconnects with exponential back-off, resuming with `Last-Event-ID`
 * when the server sends ids; each item is `{ callId, type, sequence, event }`.
 */
export async function* liveEvents(
  deps: StreamDeps,
  options: EventStreamOptions = {},
): AsyncGenerator<LiveEvent> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  let backoff: number = defaultEventStreamOptions.initialBackoffMs;
  let lastEventId: string | undefined;
  const query = options.callId ? `?callId=${encodeURIComponent(options.callId)}` : '';
  const url = `${deps.baseUrl}/v1/events/stream${query}`;
  try {
    while (!stop.signal.aborted) {
      const queue: LiveEvent[] = [];
      try {
        const response = await deps.fetch(url, {
          headers: {
            authorization: `Bearer ${deps.apiKey}`,
            accept: 'text/event-stream',
            ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
          },
          signal: stop.signal,
          cache: 'no-store',
        });
        if (!response.ok || !response.body) {
          const error = response.ok
            ? new ParleyApiError(response.status, 'no_body', 'the events stream has no body')
            : await apiErrorFrom(response);
          // A wrong key or a server without the endpoint will not get better by retrying.
          if ([401, 403, 404].includes(response.status)) {
            options.onError?.(error, false);
            throw error;
          }
          throw error;
        }
        options.onOpen?.();
        backoff = defaultEventStreamOptions.initialBackoffMs;
        const parser = createParser({
          onEvent: (message) => {
            if (message.id) lastEventId = message.id;
            try {
              const data: unknown = JSON.parse(message.data);
              if (isLiveEvent(data)) queue.push(data);
            } catch {
              // a malformed item is skipped, the stream goes on
            }
          },
          onRetry: (ms) => {
            backoff = Math.min(Math.max(ms, 100), defaultEventStreamOptions.maxBackoffMs);
          },
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.feed(value);
            while (queue.length > 0) yield queue.shift() as LiveEvent;
          }
        } finally {
          reader.cancel().catch(() => {});
        }
        throw new ParleyApiError(0, 'stream_closed', 'the events stream closed');
      } catch (error) {
        if (stop.signal.aborted) return;
        if (error instanceof ParleyApiError && [401, 403, 404].includes(error.status)) throw error;
        options.onError?.(error, true);
      }
      const jitter = 0.8 + Math.random() * 0.4;
      await sleep(backoff * jitter, stop.signal);
      backoff = Math.min(backoff * 2, defaultEventStreamOptions.maxBackoffMs);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}
