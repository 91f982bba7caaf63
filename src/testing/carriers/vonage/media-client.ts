// The Vonage side of a media WebSocket, for tests: connects to the NCCO's websocket endpoint,
// sends `websocket:connected` with the content-type and the NCCO's headers, then caller audio as
// binary L16 little-endian 20-ms frames at real-time pace on an absolute clock; DTMF as
// `websocket:dtmf`. What Parley sends is played by a playout model: audio is consumed at 1×,
// a `notify` is echoed as `websocket:notify` when the audio before it has played, `clear` drops
// what is queued, answers `websocket:cleared` and (like Twilio, option `returnMarksOnClear`)
// first echoes every pending notify at once, which Parley must not count as played. There is no
// stop message in this dialect: hanging up closes the socket.
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import { resample } from '../../../audio/resampler.js';
import type { SimulatedMedia } from '../simulator.js';

const FRAME_MS = 20;
/** Vonage buffers at most this many messages (~60 s) ("Play audio into a WebSocket"). */
const MAX_BUFFERED_MESSAGES = 3072;

export interface VonageMediaClientOptions {
  uri: string;
  carrierCallId: string;
  contentType: string;
  /** The NCCO endpoint's headers, sent inside `websocket:connected`. */
  headers?: Record<string, unknown>;
  returnMarksOnClear?: boolean;
  /** The caller hung up (after the socket closed): the simulator sends the `completed` event. */
  onHangUp?: () => Promise<void>;
}

interface Played {
  startAt: number;
  samples: Int16Array;
}

interface PendingMark {
  payload: unknown;
  name: string | undefined;
  timer: NodeJS.Timeout;
}

export class VonageMediaClient implements SimulatedMedia {
  readonly carrierCallId: string;
  readonly heardRate: number;
  readonly marksPlayed: string[] = [];
  /** Notify payloads echoed because of a clear (not played). */
  readonly marksCleared: string[] = [];
  /** Every text message Parley sent, parsed. */
  readonly controlMessages: unknown[] = [];
  /** What broke the dialect (odd or wrongly sized frames, unknown messages, overflow). */
  readonly protocolErrors: string[] = [];
  clears = 0;
  framesReceived = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly socket: WebSocket;
  private readonly frameBytes: number;
  private played: Played[] = [];
  private queueEnd = 0;
  private pending: PendingMark[] = [];
  private nextSendAt = 0;
  private isClosed = false;
  /** Playout stops when the call does. */
  private closedAt: number | undefined;

  private constructor(
    socket: WebSocket,
    private readonly options: VonageMediaClientOptions,
    rate: number,
  ) {
    this.socket = socket;
    this.carrierCallId = options.carrierCallId;
    this.heardRate = rate;
    this.frameBytes = (rate * FRAME_MS * 2) / 1000;
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.isClosed = true;
        this.closedAt = performance.now();
        for (const mark of this.pending) clearTimeout(mark.timer);
        this.pending = [];
        resolve({ code, reason: reason.toString('utf8') });
      });
    });
    socket.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) this.onAudio(buffer);
      else this.onControl(buffer.toString('utf8'));
    });
  }

  /** Opens the socket and sends `websocket:connected`; resolves once it is sent. */
  static async connect(options: VonageMediaClientOptions): Promise<VonageMediaClient> {
    const match = /rate=(\d+)/i.exec(options.contentType);
    const rate = Number(match?.[1] ?? 16000);
    const socket = new WebSocket(options.uri);
    socket.on('error', () => {
      // Reported through `close` (or the connect promise).
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`media upgrade refused: HTTP ${res.statusCode}`)),
      );
      socket.once('close', (code, reason) =>
        reject(new Error(`media socket closed before open: ${code} ${reason.toString('utf8')}`)),
      );
    });
    const client = new VonageMediaClient(socket, options, rate);
    socket.send(
      JSON.stringify({
        event: 'websocket:connected',
        'content-type': options.contentType,
        ...options.headers,
      }),
    );
    return client;
  }

  // ---- caller → Parley -----------------------------------------------------------------------
  async speak(pcm: Int16Array, sampleRate: number): Promise<void> {
    await this.sendPaced(sampleRate === this.heardRate ? pcm : resample(pcm, sampleRate, this.heardRate));
  }

  silence(ms: number): Promise<void> {
    return this.sendPaced(new Int16Array(Math.round((ms * this.heardRate) / 1000)));
  }

  /** 20-ms frames (the last padded with silence), each sent at its slot on an absolute clock. */
  private async sendPaced(audio: Int16Array): Promise<void> {
    const samples = this.frameBytes / 2;
    const now = performance.now();
    if (this.nextSendAt < now - FRAME_MS * 2) this.nextSendAt = now;
    for (let offset = 0; offset < audio.length; offset += samples) {
      const wait = this.nextSendAt - performance.now();
      if (wait > 1) await delay(wait);
      if (this.isClosed || this.socket.readyState !== WebSocket.OPEN) return;
      const frame = Buffer.alloc(this.frameBytes);
      const end = Math.min(audio.length, offset + samples);
      for (let i = offset; i < end; i++) frame.writeInt16LE(audio[i] ?? 0, (i - offset) * 2);
      this.socket.send(frame, { binary: true });
      this.nextSendAt += FRAME_MS;
    }
  }

  press(digits: string): void {
    for (const digit of digits) {
      this.sendRaw(JSON.stringify({ event: 'websocket:dtmf', digit, duration: 250 }));
    }
  }

  async hangUp(): Promise<void> {
    if (!this.isClosed) this.socket.close(1000, 'caller hung up');
    await this.closed;
    await this.options.onHangUp?.();
  }

  /** The carrier ends the websocket leg (a transfer or a REST hang-up). */
  end(reason: string): void {
    if (!this.isClosed && this.socket.readyState === WebSocket.OPEN) this.socket.close(1000, reason);
  }

  sendRaw(data: string | Buffer): void {
    if (this.socket.readyState === WebSocket.OPEN)
      this.socket.send(data, { binary: typeof data !== 'string' });
  }

  // ---- Parley → caller: the playout model ------------------------------------------------------
  private onAudio(buffer: Buffer): void {
    this.framesReceived++;
    if (buffer.length % 2 !== 0) this.protocolErrors.push(`odd-length audio frame (${buffer.length} bytes)`);
    else if (buffer.length !== this.frameBytes)
      this.protocolErrors.push(`audio frame of ${buffer.length} bytes (${this.frameBytes} expected)`);
    const now = performance.now();
    const queued = this.played.filter((p) => p.startAt + this.durationMs(p.samples) > now).length;
    if (queued >= MAX_BUFFERED_MESSAGES) {
      this.protocolErrors.push('more than 3072 messages buffered: frame dropped');
      return;
    }
    const samples = new Int16Array(buffer.length >> 1);
    for (let i = 0; i < samples.length; i++) samples[i] = buffer.readInt16LE(i * 2);
    const startAt = Math.max(now, this.queueEnd);
    this.played.push({ startAt, samples });
    this.queueEnd = startAt + this.durationMs(samples);
  }

  private durationMs(samples: Int16Array): number {
    return (samples.length * 1000) / this.heardRate;
  }

  private onControl(text: string): void {
    let message: { action?: unknown; payload?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      this.protocolErrors.push(`text frame is not JSON: ${text.slice(0, 80)}`);
      return;
    }
    this.controlMessages.push(message);
    if (message.action === 'clear') this.clear();
    else if (message.action === 'notify') this.notify(message.payload);
    else this.protocolErrors.push(`unknown action ${JSON.stringify(message.action)}`);
  }

  private notify(payload: unknown): void {
    const name =
      typeof payload === 'object' &&
      payload !== null &&
      typeof (payload as { mark?: unknown }).mark === 'string'
        ? (payload as { mark: string }).mark
        : undefined;
    const now = performance.now();
    const entry: PendingMark = {
      payload,
      name,
      timer: setTimeout(
        () => {
          this.pending = this.pending.filter((p) => p !== entry);
          if (name !== undefined) this.marksPlayed.push(name);
          this.sendRaw(JSON.stringify({ event: 'websocket:notify', payload }));
        },
        Math.max(0, this.queueEnd - now),
      ),
    };
    this.pending.push(entry);
  }

  private clear(): void {
    this.clears++;
    const now = performance.now();
    const kept: Played[] = [];
    for (const chunk of this.played) {
      if (chunk.startAt >= now) continue;
      const playedSamples = Math.floor(((now - chunk.startAt) * this.heardRate) / 1000);
      kept.push(
        playedSamples < chunk.samples.length
          ? { startAt: chunk.startAt, samples: chunk.samples.subarray(0, playedSamples) }
          : chunk,
      );
    }
    this.played = kept;
    this.queueEnd = now;
    const pending = this.pending;
    this.pending = [];
    for (const mark of pending) {
      clearTimeout(mark.timer);
      if (this.options.returnMarksOnClear !== false) {
        if (mark.name !== undefined) this.marksCleared.push(mark.name);
        this.sendRaw(JSON.stringify({ event: 'websocket:notify', payload: mark.payload }));
      }
    }
    this.sendRaw(JSON.stringify({ event: 'websocket:cleared' }));
  }

  /** The audio the caller heard so far, concatenated (gaps between replies are not included). */
  heard(): Int16Array {
    const now = this.closedAt ?? performance.now();
    const parts: Int16Array[] = [];
    let total = 0;
    for (const chunk of this.played) {
      if (chunk.startAt >= now) break;
      const n = Math.min(chunk.samples.length, Math.floor(((now - chunk.startAt) * this.heardRate) / 1000));
      parts.push(chunk.samples.subarray(0, n));
      total += n;
    }
    const out = new Int16Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}
