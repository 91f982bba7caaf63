/**
 * The caller's side of a Plivo Audio Stream, for tests: a `ws` client that speaks Plivo's dialect
 * (src/transports/phone/plivo/wire.ts) to Parley's media URL — `start`, caller audio as `media`
 * (base64 µ-law 8 kHz, 20 ms a message) paced on an absolute clock, `dtmf`, `stop` — and a
 * playout model of the phone: `playAudio` is played at 1× after what is queued, a `checkpoint`
 * is answered by `playedStream` once the audio before it has played, `clearAudio` drops what has
 * not played and answers `clearedAudio`. Like Twilio's clear, the model also echoes every pending
 * checkpoint as `playedStream` on a clear (`echoMarksOnClear`), so a server that trusted those
 * would fail the tests. What the caller heard is kept.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { mulawDecode, mulawEncode } from '../../../audio/g711.js';
import { resample } from '../../../audio/resampler.js';
import { plivoV3Signature } from '../../../transports/phone/plivo/signature.js';
import {
  CheckpointMessage,
  ClearAudioMessage,
  compile,
  PlayAudioMessage,
} from '../../../transports/phone/plivo/wire.js';
import type { SimulatedMedia } from '../simulator.js';

const RATE = 8000;
const FRAME_MS = 20;
const FRAME_BYTES = (RATE * FRAME_MS) / 1000;
const checkPlay = compile(PlayAudioMessage);
const checkCheckpoint = compile(CheckpointMessage);
const checkClear = compile(ClearAudioMessage);

export interface PlivoMediaOptions {
  url: string;
  carrierCallId: string;
  accountId: string;
  /** Signs the upgrade with X-Plivo-Signature-V3 (as Plivo's stream SDK expects) when set. */
  authToken?: string;
  /** Echo pending checkpoints as `playedStream` on clear (default true). */
  echoMarksOnClear?: boolean;
  /** Send `start` on open (default true; false for hello-timeout tests). */
  sendStart?: boolean;
  /** What the carrier does after the caller hung up (the hangup callback). */
  onCallerHangUp?: () => Promise<void>;
}

interface Chunk {
  startAt: number;
  pcm: Int16Array;
}

const sleepUntil = (at: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

export class PlivoMediaClient implements SimulatedMedia {
  readonly carrierCallId: string;
  readonly streamId = randomUUID();
  readonly heardRate = RATE;
  readonly marksPlayed: string[] = [];
  /** Checkpoints echoed because of a clear (never played). */
  readonly marksEchoedOnClear: string[] = [];
  /** Outgoing-from-Parley messages that broke the dialect. */
  readonly protocolErrors: string[] = [];
  /** Every message Parley sent, parsed. */
  readonly received: { event: string; [key: string]: unknown }[] = [];
  clears = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves once the socket is open and `start` was sent (true), or refused before opening (false). */
  readonly ready: Promise<boolean>;
  private readonly socket: WebSocket;
  private chunks: Chunk[] = [];
  private playEnd = 0;
  private readonly pendingMarks = new Map<string, NodeJS.Timeout>();
  private sequence = 0;
  private chunkNumber = 0;
  /** When the stream started (the `media.timestamp` origin) and the audio clock's next slot. */
  private startedAt = 0;
  private sentMs = 0;
  private readonly echoMarksOnClear: boolean;

  constructor(private readonly options: PlivoMediaOptions) {
    this.carrierCallId = options.carrierCallId;
    this.echoMarksOnClear = options.echoMarksOnClear ?? true;
    const headers: Record<string, string> = {};
    if (options.authToken) {
      const nonce = randomUUID().replace(/-/g, '');
      const signed = options.url.replace(/^wss:/i, 'https:').replace(/^ws:/i, 'http:');
      headers['X-Plivo-Signature-V3'] = plivoV3Signature(options.authToken, 'GET', signed, nonce);
      headers['X-Plivo-Signature-V3-Nonce'] = nonce;
    }
    this.socket = new WebSocket(options.url, { headers });
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => {
        for (const timer of this.pendingMarks.values()) clearTimeout(timer);
        this.pendingMarks.clear();
        resolve({ code, reason: reason.toString('utf8') });
      });
    });
    this.socket.on('error', () => {
      // Reported through `closed`.
    });
    this.socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ready = new Promise((resolve) => {
      this.socket.once('open', () => {
        if (options.sendStart !== false) this.sendStart();
        resolve(true);
      });
      this.socket.once('close', () => resolve(false));
    });
  }

  /** Sends `start` (µ-law 8 kHz, the format Parley's `<Stream>` asks for). */
  sendStart(
    mediaFormat: { encoding: string; sampleRate: number } = { encoding: 'audio/x-mulaw', sampleRate: RATE },
  ): void {
    this.startedAt = performance.now();
    this.sendJson({
      event: 'start',
      sequenceNumber: this.sequence++,
      start: {
        callId: this.carrierCallId,
        streamId: this.streamId,
        accountId: this.options.accountId,
        tracks: ['inbound'],
        mediaFormat,
      },
      extra_headers: '{}',
    });
  }

  private sendJson(message: object): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** One `media` message of µ-law bytes, stamped `timestampMs` after the stream started. */
  sendMedia(mulaw: Uint8Array, timestampMs: number): void {
    this.sendJson({
      event: 'media',
      sequenceNumber: this.sequence++,
      streamId: this.streamId,
      media: {
        track: 'inbound',
        timestamp: String(Math.round(timestampMs)),
        chunk: ++this.chunkNumber,
        payload: Buffer.from(mulaw).toString('base64'),
      },
      extra_headers: '{}',
    });
  }

  async speak(pcm: Int16Array, sampleRate: number): Promise<void> {
    await this.ready;
    const at8k = sampleRate === RATE ? pcm : resample(pcm, sampleRate, RATE);
    const bytes = mulawEncode(at8k);
    // Absolute clock: message n goes at origin + n × 20 ms, however late the previous one went.
    const origin = performance.now();
    for (let offset = 0, n = 0; offset < bytes.length; offset += FRAME_BYTES, n++) {
      await sleepUntil(origin + n * FRAME_MS);
      if (this.socket.readyState !== WebSocket.OPEN) return;
      const frame = new Uint8Array(FRAME_BYTES).fill(0xff);
      frame.set(bytes.subarray(offset, offset + FRAME_BYTES));
      this.sendMedia(frame, this.sentMs);
      this.sentMs += FRAME_MS;
    }
  }

  silence(ms: number): Promise<void> {
    return this.speak(new Int16Array(Math.round((ms * RATE) / 1000)), RATE);
  }

  press(digits: string): void {
    for (const digit of digits) {
      this.sendJson({
        event: 'dtmf',
        sequenceNumber: this.sequence++,
        streamId: this.streamId,
        dtmf: { track: 'inbound', digit, timestamp: String(Math.round(performance.now() - this.startedAt)) },
        extra_headers: '{}',
      });
    }
  }

  /** The caller hangs up: `stop`, then the socket closes (the status callback is the simulator's). */
  async hangUp(): Promise<void> {
    this.sendJson({ event: 'stop', sequenceNumber: this.sequence++, streamId: this.streamId });
    this.close();
    await this.closed;
    await this.options.onCallerHangUp?.();
  }

  /** Plivo ends the stream (a transfer, a REST hang-up): `stop`, then close. */
  endStream(): void {
    this.sendJson({ event: 'stop', sequenceNumber: this.sequence++, streamId: this.streamId });
    this.close();
  }

  close(code = 1000, reason = ''): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING)
      this.socket.close(code, reason);
  }

  sendRaw(data: string | Buffer): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(data);
  }

  heard(): Int16Array {
    const now = performance.now();
    const parts: Int16Array[] = [];
    for (const chunk of this.chunks) {
      if (chunk.startAt >= now) break;
      const played = Math.min(chunk.pcm.length, Math.floor(((now - chunk.startAt) * RATE) / 1000));
      parts.push(chunk.pcm.subarray(0, played));
    }
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.protocolErrors.push('binary message');
      return;
    }
    let message: { event?: unknown; [key: string]: unknown };
    try {
      message = JSON.parse(data.toString());
    } catch {
      this.protocolErrors.push('not JSON');
      return;
    }
    if (typeof message.event !== 'string') {
      this.protocolErrors.push('no event');
      return;
    }
    this.received.push(message as { event: string });
    const now = performance.now();
    switch (message.event) {
      case 'playAudio': {
        if (!checkPlay.Check(message)) return void this.protocolErrors.push('malformed playAudio');
        if (message.media.contentType !== 'audio/x-mulaw' || message.media.sampleRate !== RATE)
          return void this.protocolErrors.push(
            `playAudio in ${message.media.contentType}/${message.media.sampleRate}`,
          );
        const pcm = mulawDecode(Buffer.from(message.media.payload, 'base64'));
        const startAt = Math.max(now, this.playEnd);
        this.chunks.push({ startAt, pcm });
        this.playEnd = startAt + (pcm.length * 1000) / RATE;
        return;
      }
      case 'checkpoint': {
        if (!checkCheckpoint.Check(message)) return void this.protocolErrors.push('malformed checkpoint');
        if (message.streamId !== this.streamId)
          return void this.protocolErrors.push('checkpoint for another stream');
        const name = message.name;
        const timer = setTimeout(
          () => {
            this.pendingMarks.delete(name);
            this.marksPlayed.push(name);
            this.sendJson({
              event: 'playedStream',
              sequenceNumber: this.sequence++,
              streamId: this.streamId,
              name,
            });
          },
          Math.max(0, this.playEnd - now),
        );
        this.pendingMarks.set(name, timer);
        return;
      }
      case 'clearAudio': {
        if (!checkClear.Check(message)) return void this.protocolErrors.push('malformed clearAudio');
        if (message.streamId !== this.streamId)
          return void this.protocolErrors.push('clearAudio for another stream');
        this.clears++;
        // Drop what has not played: later chunks go, the one playing is cut at now.
        const kept: Chunk[] = [];
        for (const chunk of this.chunks) {
          if (chunk.startAt >= now) continue;
          const played = Math.min(chunk.pcm.length, Math.floor(((now - chunk.startAt) * RATE) / 1000));
          kept.push(
            played < chunk.pcm.length ? { startAt: chunk.startAt, pcm: chunk.pcm.slice(0, played) } : chunk,
          );
        }
        this.chunks = kept;
        this.playEnd = now;
        for (const [name, timer] of this.pendingMarks) {
          clearTimeout(timer);
          if (this.echoMarksOnClear) {
            this.marksEchoedOnClear.push(name);
            this.sendJson({
              event: 'playedStream',
              sequenceNumber: this.sequence++,
              streamId: this.streamId,
              name,
            });
          }
        }
        this.pendingMarks.clear();
        this.sendJson({ event: 'clearedAudio', sequenceNumber: this.sequence++, streamId: this.streamId });
        return;
      }
      default:
        this.protocolErrors.push(`unknown event ${message.event}`);
    }
  }
}
