import { createParser } from 'eventsource-parser';

/** One event of `GET /v1/events/stream`. */
export interface LiveStreamEvent {
  teamId: string;
  callId: string;
  type: string;
  sequence: number;
  /** The webhook body's `message`. */
  event: Record<string, unknown> & { id: string; type: string; sequence: number };
}

export class StreamRefusedError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads the team's live event stream until it ends or `signal` aborts; calls `onOpen` once the
 * server answered 200, then `onEvent` for each event. Resolves when the stream ends (a drop);
 * rejects with StreamRefusedError for a 4xx (a wrong key: no point retrying).
 */
export async function readLiveStream(opts: {
  serverUrl: string;
  apiKey: string;
  signal: AbortSignal;
  onOpen: () => void;
  onEvent: (event: LiveStreamEvent) => void;
}): Promise<void> {
  const res = await fetch(`${opts.serverUrl}/v1/events/stream`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${opts.apiKey}` },
    signal: opts.signal,
  });
  if (res.status !== 200 || !res.body) {
    const text = await res.text().catch(() => '');
    const message = `the event stream answered ${res.status}: ${text.slice(0, 300)}`;
    if (res.status >= 400 && res.status < 500) throw new StreamRefusedError(res.status, message);
    throw new Error(message);
  }
  opts.onOpen();
  const parser = createParser({
    onEvent: (message) => {
      let parsed: LiveStreamEvent;
      try {
        parsed = JSON.parse(message.data) as LiveStreamEvent;
      } catch {
        return;
      }
      opts.onEvent(parsed);
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
  } catch (err) {
    if (opts.signal.aborted) return;
    throw err;
  }
}
