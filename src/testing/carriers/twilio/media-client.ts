/**
 * Twilio's side of a media stream (`<Connect><Stream>`), in the exact dialect (Twilio "Media
 * Streams – WebSocket Messages"): connects to the stream URL with `X-Twilio-Signature` over the
 * `wss://` URL, sends `connected` and `start` (with the `<Parameter>`s as `customParameters`),
 * caller audio as 160-byte µ-law `media` messages paced on an absolute clock with `timestamp`
 * in ms since the stream started, `dtmf`, and `stop`; plays what Parley sends through
 * `TwilioPlayout` and echoes marks.
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { mulawEncode } from '../../../audio/g711.js';
import { resample } from '../../../audio/resampler.js';
import { twilioSignature } from '../../../transports/phone/twilio/signature.js';
import type { SimulatedMedia } from '../simulator.js';
import { detectDtmf } from './dtmf-detect.js';
import { TwilioPlayout } from './playout.js';

const FRAME_BYTES = 160;
const FRAME_MS = 20;

export interface TwilioMediaClientOptions {
  url: string;
  authToken: string;
  accountSid: string;
  callSid: string;
  parameters: Record<string, string>;
  /** Called once the stream ended: `by` says who ended it. */
  onEnded?(by: 'caller' | 'carrier' | 'server'): void;
  /**
   * Keep every message received and the audio heard (default true); the benchmark turns it
   * off so that hundreds of long calls do not grow the process.
   */
  retain?: boolean;
  /** Every message from Parley as it arrives (`atMs`: performance.now()), e.g. inter-arrival timing. */
  onMessage?(event: string, atMs: number): void;
}

export const twilioSid = (prefix: string): string => prefix + randomBytes(16).toString('hex');

export class TwilioMediaClient implements SimulatedMedia {
  readonly heardRate = 8000;
  readonly streamSid = twilioSid('MZ');
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Messages from Parley that were not the dialect (a conformance failure). */
  readonly protocolErrors: string[] = [];
  /** Every message Parley sent, parsed (for exact-shape assertions). */
  readonly received: { event: string; [key: string]: unknown }[] = [];
  readonly playout: TwilioPlayout;
  #socket: WebSocket | undefined;
  #sequence = 0;
  #chunk = 0;
  #streamStart = 0;
  #nextFrameAt = 0;
  #stopped = false;
  #endedBy: 'caller' | 'carrier' | 'server' | undefined;
  #resolveClosed!: (info: { code: number; reason: string }) => void;

  constructor(private readonly options: TwilioMediaClientOptions) {
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.playout = new TwilioPlayout(
      (name) => this.#send({ event: 'mark', streamSid: this.streamSid, mark: { name } }),
      undefined,
      options.retain ?? true,
    );
  }

  get carrierCallId(): string {
    return this.options.callSid;
  }
  get marksPlayed(): readonly string[] {
    return this.playout.marksPlayed;
  }
  get clears(): number {
    return this.playout.clears;
  }
  /** Who ended the stream, once it ended. */
  get endedBy(): 'caller' | 'carrier' | 'server' | undefined {
    return this.#endedBy;
  }
  get isOpen(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket and starts the stream; resolves when started, or when the upgrade was refused. */
  async connect(signature: 'valid' | 'bad' | 'none' = 'valid'): Promise<void> {
    const token = signature === 'bad' ? 'not-the-auth-token' : this.options.authToken;
    const headers =
      signature === 'none' ? {} : { 'x-twilio-signature': twilioSignature(token, this.options.url) };
    const socket = new WebSocket(this.options.url, { headers });
    this.#socket = socket;
    socket.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    let failure = '';
    socket.on('close', (code, reason) => {
      this.#ended('server');
      this.#resolveClosed({ code, reason: reason.toString('utf8') || failure });
    });
    // A refused upgrade ("Unexpected server response: 403") comes as an error, then close 1006.
    socket.on('error', (error) => {
      failure = error.message;
    });
    const opened = await new Promise<boolean>((resolve) => {
      socket.once('open', () => resolve(true));
      socket.once('close', () => resolve(false));
    });
    if (!opened) return;
    this.#send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.#streamStart = performance.now();
    this.#nextFrameAt = this.#streamStart;
    this.#send({
      event: 'start',
      sequenceNumber: this.#seq(),
      start: {
        accountSid: this.options.accountSid,
        streamSid: this.streamSid,
        callSid: this.options.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: this.options.parameters,
      },
      streamSid: this.streamSid,
    });
  }

  async speak(pcm: Int16Array, sampleRate: number): Promise<void> {
    const at8k = sampleRate === 8000 ? pcm : resample(pcm, sampleRate, 8000);
    const bytes = mulawEncode(at8k);
    this.#resume();
    for (let at = 0; at < bytes.length; at += FRAME_BYTES) {
      const frame = new Uint8Array(FRAME_BYTES).fill(0xff);
      frame.set(bytes.subarray(at, Math.min(at + FRAME_BYTES, bytes.length)));
      if (!(await this.#sendFrame(frame))) return;
    }
  }

  async silence(ms: number): Promise<void> {
    this.#resume();
    for (let i = 0; i < Math.ceil(ms / FRAME_MS); i++) {
      if (!(await this.#sendFrame(new Uint8Array(FRAME_BYTES).fill(0xff)))) return;
    }
  }

  /**
   * A new utterance after a pause starts now (the stream's timestamps jump over the pause, as
   * they would across frames Twilio sent and we skipped); within one, late frames catch up.
   */
  #resume(): void {
    const now = performance.now();
    if (this.#nextFrameAt < now) this.#nextFrameAt = now;
  }

  /** One frame at its place on the absolute clock; false once the stream is over. */
  async #sendFrame(frame: Uint8Array): Promise<boolean> {
    const now = performance.now();
    const due = this.#nextFrameAt;
    this.#nextFrameAt += FRAME_MS;
    if (due - now > 1) await new Promise((resolve) => setTimeout(resolve, due - now));
    if (!this.isOpen || this.#stopped) return false;
    this.#send({
      event: 'media',
      sequenceNumber: this.#seq(),
      media: {
        track: 'inbound',
        chunk: String(++this.#chunk),
        timestamp: String(Math.round(due - this.#streamStart)),
        payload: Buffer.from(frame).toString('base64'),
      },
      streamSid: this.streamSid,
    });
    return true;
  }

  press(digits: string): void {
    for (const digit of digits)
      this.#send({
        event: 'dtmf',
        streamSid: this.streamSid,
        sequenceNumber: this.#seq(),
        dtmf: { track: 'inbound_track', digit },
      });
  }

  /** The caller hangs up: `stop`, then Twilio closes the socket. */
  async hangUp(): Promise<void> {
    this.stop('caller');
    await this.closed;
  }

  /** Twilio ends the stream (the caller hung up, or the call was redirected): `stop` and close. */
  stop(by: 'caller' | 'carrier' = 'carrier'): void {
    if (this.#stopped || !this.isOpen) return;
    this.#send({
      event: 'stop',
      sequenceNumber: this.#seq(),
      streamSid: this.streamSid,
      stop: { accountSid: this.options.accountSid, callSid: this.options.callSid },
    });
    this.#ended(by);
    this.#socket?.close(1000);
  }

  sendRaw(data: string | Buffer): void {
    if (this.isOpen) this.#socket?.send(data);
  }

  heard(): Int16Array {
    return this.playout.heard();
  }

  /** Keypad digits heard as in-band tones. */
  heardDigits(): string {
    return detectDtmf(this.heard(), this.heardRate);
  }

  #seq(): string {
    return String(++this.#sequence);
  }

  #send(message: object): void {
    if (this.isOpen) this.#socket?.send(JSON.stringify(message));
  }

  /** The stream is over (first caller wins); the socket's own close resolves `closed`. */
  #ended(by: 'caller' | 'carrier' | 'server'): void {
    if (this.#endedBy) return;
    this.#endedBy = by;
    this.#stopped = true;
    this.playout.stop();
    this.options.onEnded?.(by);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.protocolErrors.push('binary message');
      return;
    }
    let message: {
      event?: unknown;
      streamSid?: unknown;
      media?: { payload?: unknown };
      mark?: { name?: unknown };
    };
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      this.protocolErrors.push('not JSON');
      return;
    }
    this.options.onMessage?.(String(message.event), performance.now());
    if (this.options.retain ?? true) this.received.push(message as { event: string });
    if (message.streamSid !== this.streamSid) {
      this.protocolErrors.push(`${String(message.event)} with streamSid ${String(message.streamSid)}`);
      return;
    }
    if (message.event === 'media' && typeof message.media?.payload === 'string')
      this.playout.pushAudio(new Uint8Array(Buffer.from(message.media.payload, 'base64')));
    else if (message.event === 'mark' && typeof message.mark?.name === 'string')
      this.playout.pushMark(message.mark.name);
    else if (message.event === 'clear') this.playout.clear();
    else this.protocolErrors.push(`unexpected ${JSON.stringify(message).slice(0, 80)}`);
  }
}
