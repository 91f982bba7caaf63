import type { WebSocket } from 'ws';
import { defaultInputLimits, type InputLimits, TokenBucket } from '../../shared/input-limits.js';
import type {
  ControlResult,
  HangUpRequest,
  Transport,
  TransportCapabilities,
  TransportClose,
  TransportEvent,
  TransportHandlers,
  TransportHello,
} from '../transport.js';
import { CloseCodes, PROTOCOL_VERSION, parseClientMessage, type ServerMessage } from './protocol.js';

/**
 * The web-call protocol on one WebSocket (see protocol.ts). Every input is validated before
 * it reaches the call; a violation sends an `error`, closes the socket with a code and reason,
 * and tells the call (which then ends with its terminal events). Incoming audio is copied into
 * one preallocated frame per call: no allocation per frame. The client must say `hello` in
 * time, answer pings, and send `user-text`/`say` no faster than the per-call rate.
 */
export const MAX_TEXT_MESSAGE_BYTES = 64 * 1024;
const MAX_BUFFERED_BYTES = 1024 * 1024;

export type SocketLimits = Pick<
  InputLimits,
  'textMessagesPerSecond' | 'textMessageBurst' | 'helloTimeoutMs' | 'pingIntervalMs' | 'pongTimeoutMs'
>;

/** Reasons for the close codes `ws` itself sends when a frame breaks the WebSocket protocol. */
const wsFailureReasons: Record<number, string> = {
  [CloseCodes.invalidPayload]: 'invalid UTF-8 in a text message',
  [CloseCodes.tooBig]: `message over ${MAX_TEXT_MESSAGE_BYTES} bytes`,
  1002: 'WebSocket protocol violation',
};

export class WebSocketTransport implements Transport {
  readonly kind = 'web' as const;
  readonly providerName = '';
  readonly capabilities: TransportCapabilities = { transfer: false, dtmf: false };
  private handlers: TransportHandlers | undefined;
  private hello: TransportHello | undefined;
  private frame: Int16Array | undefined;
  private frameBytes: Uint8Array | undefined;
  private closed = false;
  /** A frame broke the WebSocket protocol (too big, invalid UTF-8 …): `ws` closed the socket. */
  private wsFailure: { code: number; reason: string } | undefined;
  private readonly textRate: TokenBucket;
  private readonly timers: NodeJS.Timeout[] = [];
  private pongTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly callId: string,
    private readonly limits: SocketLimits = defaultInputLimits,
  ) {
    this.textRate = new TokenBucket(limits.textMessagesPerSecond / 1000, limits.textMessageBurst);
    // ws closes on a frame that breaks the protocol (oversized, invalid UTF-8) with a code and
    // no reason before it reports the error: that is the client's protocol error, with a reason.
    const close = socket.close.bind(socket);
    socket.close = (code?: number, reason?: string | Buffer) => {
      if (!this.closed && !reason && code !== undefined && code !== 1000) {
        const why = wsFailureReasons[code] ?? 'WebSocket protocol violation';
        this.wsFailure = { code, reason: why };
        this.sendJson({ type: 'error', code: 'protocol_error', message: why });
        close(code, why);
        return;
      }
      close(code, reason);
    };
    socket.on('message', (data, isBinary) =>
      this.onMessage(data as Buffer | Buffer[] | ArrayBuffer, isBinary),
    );
    socket.on('error', () => {
      // Reported through `close` (wsFailure); a listener keeps the error from being thrown.
    });
    socket.on('close', (code, reason) => {
      this.stopTimers();
      if (this.closed) return;
      this.closed = true;
      const info: TransportClose = this.wsFailure
        ? { ...this.wsFailure, initiator: 'server', protocolError: true }
        : {
            code,
            reason: reason.toString('utf8') || 'client left',
            initiator: 'client',
            protocolError: false,
          };
      this.handlers?.onClose(info);
    });
    socket.on('pong', () => {
      clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
    });
    this.timers.push(
      setTimeout(() => {
        if (!this.hello)
          this.fail(CloseCodes.helloTimeout, `no hello within ${limits.helloTimeoutMs} ms`, 'hello-timeout');
      }, limits.helloTimeoutMs).unref(),
      setInterval(() => {
        if (this.closed || this.pongTimer) return;
        this.pongTimer = setTimeout(
          () =>
            this.fail(CloseCodes.pongTimeout, `no pong within ${limits.pongTimeoutMs} ms`, 'pong-timeout'),
          limits.pongTimeoutMs,
        ).unref();
        socket.ping();
      }, limits.pingIntervalMs).unref(),
    );
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.length = 0;
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  start(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  sendAudio(frame: Int16Array): void {
    // A client that stops reading does not make the server buffer without limit: its audio is dropped.
    if (this.closed || this.socket.bufferedAmount > MAX_BUFFERED_BYTES) return;
    this.socket.send(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), { binary: true });
  }

  sendMark(id: string): void {
    this.sendJson({ type: 'mark', id });
  }

  clear(): void {
    this.sendJson({ type: 'clear' });
  }

  send(event: TransportEvent): void {
    this.sendJson(event as ServerMessage);
  }

  /** The web protocol ends a call by closing the socket: 1000, 4008 (a call limit) or 1012 (taken over). */
  async hangUp(request: HangUpRequest): Promise<ControlResult> {
    switch (request.cause) {
      case 'completed':
        this.close(CloseCodes.normal, 'call ended');
        break;
      case 'limit-reached':
        this.close(CloseCodes.callLimitReached, request.reason);
        break;
      case 'taken-over':
        this.close(CloseCodes.takenOver, request.reason);
        break;
    }
    return { ok: true };
  }

  private close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    this.socket.close(code, reason.slice(0, 120));
    this.handlers?.onClose({ code, reason, initiator: 'server', protocolError: false });
  }

  private sendJson(message: ServerMessage): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(message));
  }

  /**
   * Refuses the connection: error message, close code and reason, and the call is told (a
   * protocol error, unless `cause` says the client was too slow or is gone).
   */
  private fail(code: number, reason: string, cause?: TransportClose['cause']): void {
    if (this.closed) return;
    this.sendJson({
      type: 'error',
      code: cause ? cause.replace('-', '_') : 'protocol_error',
      message: reason,
    });
    this.closed = true;
    this.stopTimers();
    this.socket.close(code, reason.slice(0, 120));
    this.handlers?.onClose({
      code,
      reason,
      initiator: 'server',
      protocolError: cause === undefined,
      ...(cause ? { cause } : {}),
    });
  }

  private onMessage(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    if (this.closed || !this.handlers) return;
    const buffer = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    if (isBinary) {
      this.onAudio(buffer);
      return;
    }
    if (buffer.length > MAX_TEXT_MESSAGE_BYTES) {
      this.fail(CloseCodes.tooBig, `text message over ${MAX_TEXT_MESSAGE_BYTES} bytes`);
      return;
    }
    const parsed = parseClientMessage(buffer.toString('utf8'));
    if (!parsed.ok) {
      this.fail(parsed.code, parsed.reason);
      return;
    }
    const message = parsed.message;
    if (message.type === 'hello') {
      if (this.hello) {
        this.fail(CloseCodes.helloFirst, 'hello was already received');
        return;
      }
      if (message.version !== PROTOCOL_VERSION) {
        this.fail(
          CloseCodes.unsupportedVersion,
          `protocol version ${message.version} is not supported (use 1)`,
        );
        return;
      }
      const hello: TransportHello = {
        sampleRate: message.sampleRate,
        frameMs: message.frameMs ?? 20,
        audioOutput: message.audioOutput ?? true,
        marks: message.marks ?? true,
      };
      this.hello = hello;
      this.frame = new Int16Array((hello.sampleRate * hello.frameMs) / 1000);
      this.frameBytes = new Uint8Array(this.frame.buffer);
      this.sendJson({
        type: 'ready',
        version: PROTOCOL_VERSION,
        callId: this.callId,
        sampleRate: hello.sampleRate,
        frameMs: 20,
      });
      this.handlers.onHello(hello);
      return;
    }
    if (!this.hello) {
      this.fail(CloseCodes.helloFirst, `"${message.type}" before hello`);
      return;
    }
    if (
      (message.type === 'user-text' || message.type === 'say') &&
      !this.textRate.take(1, performance.now())
    ) {
      const { textMessagesPerSecond: rate, textMessageBurst: burst } = this.limits;
      this.fail(CloseCodes.rateLimited, `user-text and say over ${rate} a second (bursts of ${burst})`);
      return;
    }
    switch (message.type) {
      case 'user-text':
        this.handlers.onUserText(message.text);
        return;
      case 'mark':
        this.handlers.onMark(message.id);
        return;
      case 'say':
        this.handlers.onSay(message.text);
        return;
      case 'end':
        this.handlers.onEnd();
        return;
    }
  }

  private onAudio(buffer: Buffer): void {
    const frame = this.frame;
    const bytes = this.frameBytes;
    if (!this.hello || !frame || !bytes) {
      this.fail(CloseCodes.helloFirst, 'audio before hello');
      return;
    }
    if (buffer.length !== bytes.length) {
      this.fail(
        CloseCodes.wrongFrameSize,
        `audio frame of ${buffer.length} bytes; expected ${bytes.length} (${this.hello.frameMs} ms at ${this.hello.sampleRate} Hz)`,
      );
      return;
    }
    bytes.set(buffer);
    this.handlers?.onAudio(frame);
  }
}
