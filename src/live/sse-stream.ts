/**
 * One Server-Sent Events connection over a writable (an HTTP response whose headers were sent).
 * Hand-written: SSE framing is a few lines, and no maintained Fastify SSE plugin is installed;
 * what matters here is the back-pressure rule, which a generic plugin would not apply.
 *
 * Back-pressure, judged on drain: frames go to the socket while it accepts them; once it asks
 * to wait (`write()` returns false), later frames wait in this stream's backlog and go out on
 * `drain`. A client is too slow, and is disconnected (it can reconnect, and with `?callId=`
 * resume with `Last-Event-ID`), when its connection has not drained for `maxStallMs`, or when
 * its backlog would pass `maxBufferedBytes` (a memory bound, far above any burst a reading
 * client sees). A frame is always accepted onto an empty backlog, so an event of any size gets
 * through. A burst costs little per stream: frames are concatenations that share the event's
 * JSON string until they are written.
 */
import type { Writable } from 'node:stream';

export interface SseStreamOptions {
  /** A comment line this often keeps proxies and idle timers from closing the stream. */
  heartbeatMs: number;
  /** A connection that has not drained for this long is too slow: the client is dropped. */
  maxStallMs: number;
  /** Backlog (characters of frames waiting for drain) above which the client is dropped. */
  maxBufferedBytes: number;
  /** Reconnection delay suggested to EventSource clients (`retry:`). */
  retryMs: number;
}

export const defaultSseStreamOptions = {
  heartbeatMs: 15_000,
  maxStallMs: 30_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  retryMs: 2_000,
} as const satisfies SseStreamOptions;

export type SseCloseReason = 'client-closed' | 'too-slow' | 'server-closed';

export class SseStream {
  private readonly heartbeat: NodeJS.Timeout;
  private closedWith: SseCloseReason | undefined;
  private readonly onCloseListeners: ((reason: SseCloseReason) => void)[] = [];
  /** Frames waiting for the socket to drain, from `head` on. */
  private backlog: string[] = [];
  private head = 0;
  private backlogChars = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly out: Writable,
    private readonly options: SseStreamOptions = defaultSseStreamOptions,
  ) {
    this.heartbeat = setInterval(() => {
      if (!this.stalled) this.write(': heartbeat\n\n');
    }, options.heartbeatMs);
    this.heartbeat.unref();
    out.once('close', () => this.close('client-closed'));
    out.once('error', () => this.close('client-closed'));
    out.on('drain', () => this.drained());
    this.write(`retry: ${options.retryMs}\n: connected\n\n`);
  }

  get closed(): SseCloseReason | undefined {
    return this.closedWith;
  }

  /** Characters of frames waiting for the socket (0 while the socket keeps up). */
  get backlogSize(): number {
    return this.backlogChars;
  }

  private get stalled(): boolean {
    return this.stallTimer !== undefined;
  }

  /** Called once, with why the stream ended. */
  onClose(listener: (reason: SseCloseReason) => void): void {
    if (this.closedWith) listener(this.closedWith);
    else this.onCloseListeners.push(listener);
  }

  /**
   * Resolves once the socket has taken every frame sent so far (at once when it has), or the
   * stream closed: a sender of many events (a replay) waits on it to go at the client's pace.
   */
  writable(): Promise<void> {
    if (!this.stalled || this.closedWith) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Sends one event: `id:` (when given), optional `event:` name, `data:` lines. */
  send(data: string, id?: string, event?: string): void {
    let frame = '';
    // Ids and names are single lines by construction; strip line breaks to keep framing intact.
    if (id !== undefined) frame += `id: ${id.replace(/[\r\n]/g, '')}\n`;
    if (event !== undefined) frame += `event: ${event.replace(/[\r\n]/g, '')}\n`;
    // JSON has no raw line breaks: the common case keeps `data` as is (no copy of a large event).
    if (!/[\r\n]/.test(data)) frame += `data: ${data}\n`;
    else for (const line of data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
    this.write(`${frame}\n`);
  }

  close(reason: SseCloseReason = 'server-closed'): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    clearInterval(this.heartbeat);
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.backlog = [];
    this.backlogChars = 0;
    if (reason === 'too-slow') this.out.destroy();
    else if (!this.out.destroyed && !this.out.writableEnded) this.out.end();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    for (const listener of this.onCloseListeners.splice(0)) listener(reason);
  }

  private write(frame: string): void {
    if (this.closedWith || this.out.destroyed || this.out.writableEnded) return;
    if (!this.stalled) {
      this.writeOut(frame);
      return;
    }
    if (this.backlogChars > 0 && this.backlogChars + frame.length > this.options.maxBufferedBytes) {
      this.close('too-slow');
      return;
    }
    this.backlog.push(frame);
    this.backlogChars += frame.length;
  }

  private writeOut(frame: string): void {
    if (this.out.write(frame)) return;
    this.stallTimer = setTimeout(() => this.close('too-slow'), this.options.maxStallMs);
    this.stallTimer.unref();
  }

  private drained(): void {
    if (this.closedWith) return;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    while (this.head < this.backlog.length && !this.stalled) {
      const frame = this.backlog[this.head] as string;
      this.backlog[this.head++] = '';
      this.backlogChars -= frame.length;
      this.writeOut(frame);
    }
    if (this.head === this.backlog.length) {
      this.backlog = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.head);
      this.head = 0;
    }
    if (!this.stalled) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
