import type { WebSocket } from 'ws';
import { FrameChunker } from '../../audio/frame-chunker.js';
import { alawDecodeInto, alawEncodeInto, mulawDecodeInto, mulawEncodeInto } from '../../audio/g711.js';
import { TokenBucket } from '../../shared/input-limits.js';
import type {
  ControlResult,
  HangUpRequest,
  TransferDestination,
  Transport,
  TransportCapabilities,
  TransportClose,
  TransportEvent,
  TransportHandlers,
} from '../transport.js';
import type { MediaContext } from './carrier.js';

/**
 * What every carrier's media WebSocket shares, so a carrier's `media.ts` only parses and writes
 * its dialect: decoding to exact 20-ms PCM16 frames, silence for gaps the carrier's timestamps
 * show, encoding outgoing frames, marks (only marks still pending are acked: the ones a `clear`
 * dropped never count as played, even when the carrier echoes them), `clear` sent even when
 * nothing is queued here, a `stop` after a transfer reported as `transferred` (not a hang-up),
 * hang-up through the carrier's REST API (never after a successful transfer: that would cut the
 * forwarded call), and the guards every socket from outside needs (a start within the hello
 * timeout, message size and rate, malformed messages close the socket with a reason).
 */
export type PhoneAudioEncoding = 'mulaw' | 'alaw' | 'l16';

export interface PhoneAudioFormat {
  encoding: PhoneAudioEncoding;
  sampleRate: 8000 | 16000;
}

/** Largest message a carrier sends (a media message holds 20 ms – a few hundred ms of audio). */
export const MAX_MEDIA_MESSAGE_BYTES = 64 * 1024;
/** Carriers send 50 media messages a second; far more is a flood. */
const MESSAGES_PER_SECOND = 250;
const MESSAGE_BURST = 500;
/** A timestamp gap up to this is filled with silence; longer gaps (a stalled stream) are capped. */
const MAX_GAP_FILL_MS = 1000;
const FRAME_MS = 20;
/** WebSocket close codes the media socket uses. */
export const MediaCloseCodes = { normal: 1000, protocolError: 1008, tooBig: 1009, timeout: 4005 } as const;

export abstract class CarrierMediaStream implements Transport {
  readonly kind = 'phone' as const;
  abstract readonly providerName: string;
  readonly capabilities: TransportCapabilities = { transfer: true, dtmf: true };
  protected handlers: TransportHandlers | undefined;
  protected format: PhoneAudioFormat | undefined;
  private chunker: FrameChunker | undefined;
  private decoded = new Int16Array(0);
  private encoded = new Uint8Array(0);
  private readonly pendingMarks = new Set<string>();
  private closed = false;
  private transferred = false;
  /** The server asked to hang up: a `stop` or close that follows is its own, not the caller's. */
  private hangUpRequested: HangUpRequest | undefined;
  /** Milliseconds of caller audio received so far (the stream's own clock, for gap filling). */
  private receivedMs = 0;
  private readonly rate = new TokenBucket(MESSAGES_PER_SECOND / 1000, MESSAGE_BURST);
  private readonly helloTimer: NodeJS.Timeout;
  /** Input that arrived before the call attached (`start` is kept, in order). */
  private early: (() => void)[] | undefined = [];

  constructor(
    protected readonly socket: WebSocket,
    protected readonly context: MediaContext,
  ) {
    socket.on('message', (data, isBinary) => {
      if (this.closed) return;
      const buffer = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data as ArrayBuffer);
      if (buffer.length > MAX_MEDIA_MESSAGE_BYTES) {
        this.fail(`message over ${MAX_MEDIA_MESSAGE_BYTES} bytes`, MediaCloseCodes.tooBig);
        return;
      }
      if (!this.rate.take(1, performance.now())) {
        this.fail(`more than ${MESSAGES_PER_SECOND} messages a second`);
        return;
      }
      try {
        this.onMessage(buffer, isBinary);
      } catch (error) {
        this.fail(`malformed message: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    socket.on('error', () => {
      // Reported through `close`; a listener keeps the error from being thrown.
    });
    socket.on('close', (code, reason) => {
      clearTimeout(this.helloTimer);
      if (this.closed) return;
      this.closed = true;
      if (this.hangUpRequested) {
        this.deliver({
          code,
          reason: this.hangUpRequested.reason,
          initiator: 'server',
          protocolError: false,
        });
        return;
      }
      this.deliver({
        code,
        reason: reason.toString('utf8') || (this.transferred ? 'transferred' : 'carrier closed the stream'),
        initiator: 'client',
        protocolError: false,
        ...(this.transferred ? { cause: 'transferred' as const } : {}),
      });
    });
    this.helloTimer = setTimeout(() => {
      if (!this.format)
        this.fail(
          `no start within ${context.limits.helloTimeoutMs} ms`,
          MediaCloseCodes.timeout,
          'hello-timeout',
        );
    }, context.limits.helloTimeoutMs).unref();
  }

  // ---- what a carrier implements ---------------------------------------------------------
  /** One message from the carrier (JSON text, or binary audio for Vonage); throw on a malformed one. */
  protected abstract onMessage(data: Buffer, isBinary: boolean): void;
  /** Sends one 20-ms frame of encoded audio in the dialect. */
  protected abstract writeMedia(payload: Uint8Array): void;
  protected abstract writeMark(name: string): void;
  protected abstract writeClear(): void;

  // ---- what a carrier calls ----------------------------------------------------------------
  /** The stream started with this audio format: the call connects (once). */
  protected started(format: PhoneAudioFormat): void {
    if (this.format) throw new Error('a second start');
    this.format = format;
    clearTimeout(this.helloTimer);
    const samples = (format.sampleRate * FRAME_MS) / 1000;
    this.chunker = new FrameChunker(samples);
    this.encoded = new Uint8Array(format.encoding === 'l16' ? samples * 2 : samples);
    this.emit((h) =>
      h.onHello({ sampleRate: format.sampleRate, frameMs: FRAME_MS, audioOutput: true, marks: true }),
    );
  }

  /**
   * Caller audio as the carrier encodes it. `timestampMs` (ms since the stream started, when the
   * dialect has one) lets a gap in the stream become silence, so the recogniser's clock stays true.
   */
  protected receivedAudio(payload: Uint8Array, timestampMs?: number): void {
    const format = this.format;
    const chunker = this.chunker;
    if (!format || !chunker) throw new Error('media before start');
    const samples = format.encoding === 'l16' ? payload.length >> 1 : payload.length;
    if (format.encoding === 'l16' && payload.length % 2 !== 0) throw new Error('odd-length L16 audio');
    if (timestampMs !== undefined && timestampMs > this.receivedMs + FRAME_MS * 2) {
      const gapMs = Math.min(timestampMs - this.receivedMs, MAX_GAP_FILL_MS);
      this.pushPcm(new Int16Array(Math.round((gapMs * format.sampleRate) / 1000)));
    }
    if (this.decoded.length < samples) this.decoded = new Int16Array(samples);
    const pcm = this.decoded.subarray(0, samples);
    if (format.encoding === 'mulaw') mulawDecodeInto(payload, pcm);
    else if (format.encoding === 'alaw') alawDecodeInto(payload, pcm);
    else {
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      for (let i = 0; i < samples; i++) pcm[i] = view.getInt16(i * 2, true);
    }
    this.pushPcm(pcm);
  }

  private pushPcm(pcm: Int16Array): void {
    const format = this.format;
    if (!format || !this.chunker) return;
    this.receivedMs += (pcm.length * 1000) / format.sampleRate;
    this.chunker.push(pcm, (frame) => this.handlers?.onAudio(frame));
  }

  /** The carrier played everything before mark `name`. Marks a clear dropped are ignored. */
  protected receivedMark(name: string): void {
    if (!this.pendingMarks.delete(name)) return;
    this.emit((h) => h.onMark(name));
  }

  /** Keypad digits from the caller. */
  protected receivedDtmf(digits: string): void {
    if (!/^[0-9*#A-D]+$/.test(digits)) throw new Error(`invalid DTMF digits ${JSON.stringify(digits)}`);
    this.emit((h) => h.onDtmf?.(digits));
  }

  /** The carrier ended the stream (`stop`): a hang-up, or the end of a transfer. */
  protected stopped(reason = 'caller hung up'): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    this.socket.close(MediaCloseCodes.normal, 'stream stopped');
    if (this.hangUpRequested) {
      this.deliver({ reason: this.hangUpRequested.reason, initiator: 'server', protocolError: false });
      return;
    }
    this.deliver({
      reason: this.transferred ? 'transferred' : reason,
      initiator: 'client',
      protocolError: false,
      ...(this.transferred ? { cause: 'transferred' as const } : {}),
    });
  }

  /** A protocol violation: the socket is closed with a reason and the call told. */
  protected fail(
    reason: string,
    code: number = MediaCloseCodes.protocolError,
    cause?: 'hello-timeout',
  ): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    this.context.log?.warn({ callId: this.context.callId, reason }, 'carrier media stream refused');
    this.socket.close(code, reason.slice(0, 120));
    this.deliver({
      code,
      reason,
      initiator: 'server',
      protocolError: cause === undefined,
      ...(cause ? { cause } : {}),
    });
  }

  // ---- Transport ---------------------------------------------------------------------------
  start(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const early = this.early ?? [];
    this.early = undefined;
    for (const run of early) run();
  }

  /** Runs now when the call is attached, else when it attaches (a `start` can precede it). */
  private emit(run: (h: TransportHandlers) => void): void {
    if (this.early) this.early.push(() => this.handlers && run(this.handlers));
    else if (this.handlers) run(this.handlers);
  }

  private deliver(info: TransportClose): void {
    this.emit((h) => h.onClose(info));
  }

  sendAudio(frame: Int16Array): void {
    const format = this.format;
    if (this.closed || !format || this.socket.readyState !== this.socket.OPEN) return;
    const out = this.encoded;
    if (format.encoding === 'mulaw') mulawEncodeInto(frame, out);
    else if (format.encoding === 'alaw') alawEncodeInto(frame, out);
    else {
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      for (let i = 0; i < frame.length; i++) view.setInt16(i * 2, frame[i] ?? 0, true);
    }
    this.writeMedia(out.subarray(0, format.encoding === 'l16' ? frame.length * 2 : frame.length));
  }

  sendMark(id: string): void {
    if (this.closed) return;
    this.pendingMarks.add(id);
    this.writeMark(id);
  }

  clear(): void {
    if (this.closed) return;
    // Sent even when nothing is queued here: the carrier may still be playing what it buffered.
    this.pendingMarks.clear();
    this.writeClear();
  }

  send(_event: TransportEvent): void {
    // A phone line has no channel for text: transcripts and statuses reach webhooks only.
  }

  async hangUp(request: HangUpRequest): Promise<ControlResult> {
    clearTimeout(this.helloTimer);
    this.hangUpRequested ??= request;
    // After a transfer the carrier carries the caller elsewhere; a hang-up would cut that call.
    // Taken over: another server owns the call now and ends it; this one only lets go.
    const result =
      this.transferred || request.cause === 'taken-over'
        ? ({ ok: true } as const)
        : await this.context.control.hangUp();
    if (!this.closed) {
      this.closed = true;
      if (this.socket.readyState === this.socket.OPEN)
        this.socket.close(MediaCloseCodes.normal, 'call ended');
      this.deliver({ reason: request.reason, initiator: 'server', protocolError: false });
    }
    return result;
  }

  async transfer(to: TransferDestination, signal: AbortSignal): Promise<ControlResult> {
    this.transferred = true;
    const result = await this.context.control.transfer(to, signal);
    if (!result.ok) this.transferred = false;
    return result;
  }

  sendDtmf(digits: string, signal: AbortSignal): Promise<ControlResult> {
    return this.context.control.sendDtmf(digits, signal);
  }
}
