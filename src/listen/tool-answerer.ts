/**
 * Client side of `parley listen --tools`: holds `GET /v1/listen/ws` open (reconnecting with
 * back-off) and answers each synchronous request the server sends over it by posting it to the
 * local receiver, signed like a real delivery, and returning the receiver's answer.
 */
import WebSocket from 'ws';
import type { EventMessage } from '../contract/event-schemas.js';
import { type ForwardResult, forwardEvent } from './forward.js';
import type { ListenOptions } from './listen-options.js';

export class ToolAnswerer {
  private socket: WebSocket | undefined;
  private stopped = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private fail!: (err: Error) => void;
  /** Rejects when the server refuses the connection (a wrong key). */
  readonly refused: Promise<never>;

  constructor(
    private readonly options: ListenOptions,
    private readonly hooks: {
      log: (line: string) => void;
      onAnswered: (message: EventMessage, result: ForwardResult) => void;
    },
  ) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    this.refused = new Promise<never>((_resolve, reject) => {
      this.fail = reject;
    });
    this.refused.catch(() => undefined);
  }

  start(): void {
    const url = new URL(`${this.options.serverUrl}/v1/listen/ws`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.options.assistants) url.searchParams.set('assistantId', this.options.assistants.join(','));
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${this.options.apiKey}` } });
    this.socket = socket;
    socket.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status >= 400 && status < 500) {
        this.stopped = true;
        this.fail(new Error(`the server refused --tools: ${status}`));
      }
      socket.terminate();
    });
    socket.on('message', (data) => {
      let frame: { type?: string; id?: string; timeoutMs?: number; message?: EventMessage };
      try {
        frame = JSON.parse(String(data));
      } catch {
        return;
      }
      if (frame.type === 'ready') {
        this.attempt = 0;
        this.hooks.log('answering tool-calls and assistant-request through this listener (--tools)');
        this.markReady();
      } else if (frame.type === 'request' && frame.id && frame.message) {
        void this.answer(socket, frame.id, frame.message, frame.timeoutMs ?? this.options.timeoutMs);
      }
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      if (this.stopped) return;
      this.attempt++;
      const delay = Math.min(10_000, 500 * 2 ** (this.attempt - 1));
      this.reconnectTimer = setTimeout(() => this.start(), delay);
    });
  }

  private async answer(
    socket: WebSocket,
    id: string,
    message: EventMessage,
    budgetMs: number,
  ): Promise<void> {
    const result = await forwardEvent(message, {
      url: this.options.forwardTo,
      secret: this.options.secret,
      format: this.options.format,
      timeoutMs: Math.max(1, Math.min(budgetMs, this.options.timeoutMs)),
    });
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'reply', id, status: result.status ?? 502, body: result.body }));
    }
    this.hooks.onAnswered(message, result);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.close(1000, 'parley listen stopped');
  }

  /** Closes the connection abruptly, as a crash would (tests). */
  kill(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.terminate();
  }
}
