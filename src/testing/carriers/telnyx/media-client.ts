/**
 * Telnyx's side of the media WebSocket, for tests: connects to a `stream_url` as Telnyx does and
 * speaks its dialect (Telnyx AsyncAPI "Stream call media over WebSocket"): `connected`, `start`
 * (PCMU 8 kHz, or L16 big-endian at 16 kHz), `media` with base64 RTP payloads at real-time pace on
 * an absolute clock — and, like Telnyx, not always in order (every `swapEvery`-th pair of frames is
 * sent swapped) — `dtmf`, `stop`. A playout model plays what Parley sends at 1×: a mark is echoed
 * when the audio before it has played; `clear` drops the queued audio and echoes every pending mark
 * at once (the Twilio behaviour; Telnyx's is not documented, so the server must cope with it); what
 * was played is kept as what the caller heard.
 */

import WebSocket from 'ws';
import { mulawDecode, mulawEncode } from '../../../audio/g711.js';
import { resample } from '../../../audio/resampler.js';
import type { SimulatedMedia } from '../simulator.js';

const FRAME_MS = 20;
const PLAYOUT_TICK_MS = 10;

export interface TelnyxMediaClientOptions {
  url: string;
  carrierCallId: string;
  clientState?: string | null | undefined;
  from: string;
  to: string;
  /** The stream's codec (what `stream_bidirectional_codec` asked for); default PCMU. */
  codec?: 'PCMU' | 'L16';
  /** Every n-th pair of media frames is sent swapped (0: always in order). Default 7. */
  swapEvery?: number;
  /** Called after the caller hung up (stop sent, socket closed). */
  onCallerHangUp?: () => Promise<void>;
}

type Queued = { kind: 'audio'; pcm: Int16Array; offset: number } | { kind: 'mark'; name: string };

export class TelnyxMediaClient implements SimulatedMedia {
  readonly carrierCallId: string;
  readonly heardRate: number;
  readonly streamId = crypto.randomUUID();
  readonly marksPlayed: string[] = [];
  /** Marks echoed because a clear dropped them (never played). */
  readonly marksCleared: string[] = [];
  /** Every message Parley sent, parsed. */
  readonly received: { event: string; [key: string]: unknown }[] = [];
  clears = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly socket: WebSocket;
  private readonly codec: 'PCMU' | 'L16';
  private sequence = 0;
  private chunk = 0;
  private streamStartMs = 0;
  /** The stream clock: when the next caller frame is due (absolute, ms on performance.now()). */
  private nextFrameAt = 0;
  private readonly swapEvery: number;
  private queue: Queued[] = [];
  private heardChunks: Int16Array[] = [];
  private credit = 0;
  private lastTick = 0;
  private readonly ticker: NodeJS.Timeout;
  private open = false;

  constructor(private readonly options: TelnyxMediaClientOptions) {
    this.carrierCallId = options.carrierCallId;
    this.codec = options.codec ?? 'PCMU';
    this.heardRate = this.codec === 'L16' ? 16000 : 8000;
    this.swapEvery = options.swapEvery ?? 7;
    this.socket = new WebSocket(options.url);
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => {
        this.open = false;
        clearInterval(this.ticker);
        resolve({ code, reason: reason.toString('utf8') });
      });
    });
    this.socket.on('error', () => {
      // Reported through `closed`.
    });
    this.socket.on('message', (data, isBinary) => this.onServerMessage(data, isBinary));
    this.ticker = setInterval(() => this.playout(), PLAYOUT_TICK_MS);
    this.ticker.unref();
  }

  /** Opens the socket and sends `connected` and `start`; resolves once they are sent. */
  async connect(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
      this.socket.once('close', (code) => reject(new Error(`media socket closed (${code}) before start`)));
    });
    this.open = true;
    this.send({ event: 'connected', version: '1.0.0' });
    this.send({
      event: 'start',
      sequence_number: this.nextSequence(),
      stream_id: this.streamId,
      start: {
        call_control_id: this.carrierCallId,
        call_session_id: `session-${this.carrierCallId}`,
        from: this.options.from,
        to: this.options.to,
        client_state: this.options.clientState ?? null,
        media_format: { encoding: this.codec, sample_rate: this.heardRate, channels: 1 },
      },
    });
    this.streamStartMs = performance.now();
    this.nextFrameAt = this.streamStartMs;
    this.lastTick = this.streamStartMs;
  }

  /** When the stream started (performance.now()): caller frame k is due at startedAt + 20·k ms. */
  get startedAt(): number {
    return this.streamStartMs;
  }

  private nextSequence(): string {
    this.sequence += 1;
    return String(this.sequence);
  }

  private send(message: object): void {
    if (this.open && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(data);
  }

  private encode(pcm: Int16Array): Buffer {
    if (this.codec === 'PCMU') return Buffer.from(mulawEncode(pcm));
    const out = Buffer.alloc(pcm.length * 2);
    for (let i = 0; i < pcm.length; i++) out.writeInt16BE(pcm[i] ?? 0, i * 2);
    return out;
  }

  private decode(payload: Buffer): Int16Array {
    if (this.codec === 'PCMU') return mulawDecode(payload);
    const out = new Int16Array(payload.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = payload.readInt16BE(i * 2);
    return out;
  }

  private mediaMessage(pcm: Int16Array): object {
    this.chunk += 1;
    return {
      event: 'media',
      sequence_number: this.nextSequence(),
      stream_id: this.streamId,
      media: {
        track: 'inbound',
        chunk: String(this.chunk),
        timestamp: String(Math.round(this.nextFrameAt - this.streamStartMs)),
        payload: this.encode(pcm).toString('base64'),
      },
    };
  }

  /** Caller audio at real-time pace: frame k leaves at its absolute due time, never in a burst. */
  async speak(pcm: Int16Array, sampleRate: number): Promise<void> {
    const audio = sampleRate === this.heardRate ? pcm : resample(pcm, sampleRate, this.heardRate);
    const samples = (this.heardRate * FRAME_MS) / 1000;
    let held: object | undefined;
    let frames = 0;
    for (let offset = 0; offset < audio.length && this.open; offset += samples) {
      const frame = new Int16Array(samples);
      frame.set(audio.subarray(offset, Math.min(offset + samples, audio.length)));
      const wait = this.nextFrameAt - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const message = this.mediaMessage(frame);
      this.nextFrameAt += FRAME_MS;
      frames += 1;
      if (held) {
        this.send(message);
        this.send(held);
        held = undefined;
      } else if (this.swapEvery > 0 && frames % this.swapEvery === 0 && offset + samples < audio.length) {
        held = message; // sent after the next one: out of order, as Telnyx may deliver
      } else this.send(message);
    }
    if (held) this.send(held);
    if (this.nextFrameAt < performance.now()) this.nextFrameAt = performance.now();
  }

  silence(ms: number): Promise<void> {
    return this.speak(new Int16Array(Math.round((ms * this.heardRate) / 1000)), this.heardRate);
  }

  press(digits: string): void {
    for (const digit of digits)
      this.send({
        event: 'dtmf',
        sequence_number: this.nextSequence(),
        stream_id: this.streamId,
        occurred_at: new Date().toISOString(),
        dtmf: { digit },
      });
  }

  /** Telnyx ends the stream (hang-up or transfer): `stop`, then the socket closes. */
  stop(): void {
    if (!this.open) return;
    this.send({
      event: 'stop',
      sequence_number: this.nextSequence(),
      stream_id: this.streamId,
      stop: { call_control_id: this.carrierCallId },
    });
    this.open = false;
    this.socket.close(1000, 'stream stopped');
  }

  async hangUp(): Promise<void> {
    this.stop();
    await this.closed;
    await this.options.onCallerHangUp?.();
  }

  /** Closes the socket without a `stop` (network loss). */
  drop(): void {
    this.open = false;
    this.socket.terminate();
  }

  heard(): Int16Array {
    const total = this.heardChunks.reduce((sum, c) => sum + c.length, 0);
    const out = new Int16Array(total);
    let at = 0;
    for (const c of this.heardChunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Samples queued and not yet played. */
  get queuedSamples(): number {
    return this.queue.reduce((sum, q) => sum + (q.kind === 'audio' ? q.pcm.length - q.offset : 0), 0);
  }

  private onServerMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.received.push({ event: '<binary>' });
      return;
    }
    const message = JSON.parse(data.toString()) as { event: string; [key: string]: unknown };
    this.received.push(message);
    if (message.event === 'media') {
      const payload = (message.media as { payload?: string } | undefined)?.payload ?? '';
      this.queue.push({ kind: 'audio', pcm: this.decode(Buffer.from(payload, 'base64')), offset: 0 });
    } else if (message.event === 'mark') {
      const name = (message.mark as { name?: string } | undefined)?.name ?? '';
      this.queue.push({ kind: 'mark', name });
      this.playout();
    } else if (message.event === 'clear') {
      this.clears += 1;
      const pending = this.queue.filter((q): q is Extract<Queued, { kind: 'mark' }> => q.kind === 'mark');
      this.queue = [];
      this.credit = 0;
      for (const mark of pending) {
        this.marksCleared.push(mark.name);
        this.echoMark(mark.name);
      }
    }
  }

  private echoMark(name: string): void {
    this.send({
      event: 'mark',
      sequence_number: this.nextSequence(),
      stream_id: this.streamId,
      mark: { name },
    });
  }

  /** Plays queued audio at 1× and echoes marks whose audio has played. */
  private playout(): void {
    const now = performance.now();
    const elapsed = now - this.lastTick;
    this.lastTick = now;
    if (this.queue.length === 0) {
      this.credit = 0;
      return;
    }
    this.credit += (elapsed * this.heardRate) / 1000;
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (!head) break;
      if (head.kind === 'mark') {
        this.queue.shift();
        this.marksPlayed.push(head.name);
        this.echoMark(head.name);
        continue;
      }
      const take = Math.min(Math.floor(this.credit), head.pcm.length - head.offset);
      if (take <= 0) break;
      this.heardChunks.push(head.pcm.slice(head.offset, head.offset + take));
      head.offset += take;
      this.credit -= take;
      if (head.offset >= head.pcm.length) this.queue.shift();
    }
  }
}
