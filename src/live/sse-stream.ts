import type { Writable } from 'node:stream';

/**
 * One Server-Sent Events connection over a writable (an HTTP response whose headers were sent).
 * Hand-written: SSE framing is a few lines, and no maintained Fastify SSE plugin is installed;
 * what matters here is the back-pressure rule, which a generic plugin would not apply.
 *
 * Back-pressure: events are written as they come; when the socket cannot keep up, Node buffers
 * them in the writable. Past `maxBufferedBytes` still unsent, the client is too slow (or gone
 * without a FIN): it is disconnected instead of buffering without bound. It can reconnect.
 */
export interface SseStreamOptions {
  /** A comment line this often keeps proxies and idle timers from closing the stream. */
  heartbeatMs: number;
  /** Unsent bytes above which the client is dropped. */
  maxBufferedBytes: number;
  /** Reconnection delay suggested to EventSource clients (`retry:`). */
  retryMs: number;
}

export const defaultSseStreamOptions = {
  heartbeatMs: 15_000,
  maxBufferedBytes: 1024 * 1024,
  retryMs: 2_000,
} as const satisfies SseStreamOptions;

export type SseCloseReason = 'client-closed' | 'too-slow' | 'server-closed';

export class SseStream {
  private readonly heartbeat: NodeJS.Timeout;
  private closedWith: SseCloseReason | undefined;
  private readonly onCloseListeners: ((reason: SseCloseReason) => void)[] = [];

  constructor(
    private readonly out: Writable,
    private readonly options: SseStreamOptions = defaultSseStreamOptions,
  ) {
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), options.heartbeatMs);
    this.heartbeat.unref();
    out.once('close', () => this.close('client-closed'));
    out.once('error', () => this.close('client-closed'));
    this.write(`retry: ${options.retryMs}\n: connected\n\n`);
  }

  get closed(): SseCloseReason | undefined {
    return this.closedWith;
  }

  /** Called once, with why the stream ended. */
  onClose(listener: (reason: SseCloseReason) => void): void {
    if (this.closedWith) listener(this.closedWith);
    else this.onCloseListeners.push(listener);
  }

  /** Sends one event: `id:` (when given), optional `event:` name, `data:` lines. */
  send(data: string, id?: string, event?: string): void {
    let frame = '';
    // Ids and names are single lines by construction; strip line breaks to keep framing intact.
    if (id !== undefined) frame += `id: ${id.replace(/[\r\n]/g, '')}\n`;
    if (event !== undefined) frame += `event: ${event.replace(/[\r\n]/g, '')}\n`;
    for (const line of data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
    this.write(`${frame}\n`);
  }

  close(reason: SseCloseReason = 'server-closed'): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    clearInterval(this.heartbeat);
    if (reason === 'too-slow') this.out.destroy();
    else if (!this.out.destroyed && !this.out.writableEnded) this.out.end();
    for (const listener of this.onCloseListeners.splice(0)) listener(reason);
  }

  private write(chunk: string): void {
    if (this.closedWith || this.out.destroyed || this.out.writableEnded) return;
    if (this.out.writableLength + Buffer.byteLength(chunk) > this.options.maxBufferedBytes) {
      this.close('too-slow');
      return;
    }
    this.out.write(chunk);
  }
}
