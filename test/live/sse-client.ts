/**
 * A Server-Sent Events reader over fetch (as a browser dashboard reads `/v1/events/stream`: an
 * EventSource cannot send the Authorization header). Keeps every event and comment it has read
 * and lets a test wait for a condition.
 */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers = new Headers();
  ended = false;
  private readonly abort = new AbortController();
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  private done: Promise<void> = Promise.resolve();

  static async open(
    url: string,
    key: string | undefined,
    headers: Record<string, string> = {},
  ): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(url, {
      headers: {
        accept: 'text/event-stream',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...headers,
      },
      signal: client.abort.signal,
    });
    client.status = res.status;
    client.headers = res.headers;
    if (res.status !== 200 || !res.body) {
      client.ended = true;
      client.events.push({ data: await res.text() });
      return client;
    }
    client.done = client.read(res.body);
    return client;
  }

  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary event fields
  json(): any[] {
    return this.events.map((e) => JSON.parse(e.data));
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
        this.wake();
      }
    } catch {
      // aborted, or the server dropped the connection
    }
    this.ended = true;
    this.wake();
  }

  private parse(block: string): void {
    const event: SseEvent = { data: '' };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) event.id = line.slice(4);
      else if (line.startsWith('event: ')) event.event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    event.data = data.join('\n');
    this.events.push(event);
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.test()) return true;
      w.resolve();
      return false;
    });
  }

  waitFor(test: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`SSE: timed out waiting for ${what}; got ${this.events.length} events`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
