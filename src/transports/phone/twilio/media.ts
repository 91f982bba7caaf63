/**
 * A Twilio call's bidirectional media stream (`<Connect><Stream>`), in the dialect of `wire.ts`
 * (Twilio "Media Streams – WebSocket Messages"). The shared `CarrierMediaStream` does the
 * framing, gap silence, marks and control; this class only reads and writes Twilio's JSON.
 * `start` fixes the format (only audio/x-mulaw 8000 Hz mono exists) and the stream id every
 * later message must carry; `media.timestamp` (ms since the stream started) turns gaps into
 * silence; `clear` makes Twilio echo every pending mark at once, which the base ignores.
 * DTMF out: Twilio has no command for a call on a stream, so digits go out as in-band tones.
 */
import type { WebSocket } from 'ws';
import type { ControlResult } from '../../transport.js';
import type { MediaContext } from '../carrier.js';
import { CarrierMediaStream } from '../media-stream.js';
import { dtmfTones } from './dtmf-tones.js';
import { clearMessage, markMessage, mediaMessage, parseTwilioMessage, type TwilioStart } from './wire.js';

export class TwilioMediaStream extends CarrierMediaStream {
  readonly providerName = 'twilio';
  #streamSid: string | undefined;
  #callSid: string | undefined;

  constructor(socket: WebSocket, context: MediaContext) {
    super(socket, context);
  }

  /** Twilio's ids for this stream, once `start` arrived. */
  get streamSid(): string | undefined {
    return this.#streamSid;
  }
  get callSid(): string | undefined {
    return this.#callSid;
  }

  protected onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) throw new Error('binary message (Twilio sends JSON text)');
    const message = parseTwilioMessage(data.toString('utf8'));
    if (message.event === 'connected') return;
    if (message.event === 'start') {
      this.#onStart(message);
      return;
    }
    if (!this.#streamSid) throw new Error(`${message.event} before start`);
    if (message.streamSid !== this.#streamSid)
      throw new Error(`${message.event} for stream ${message.streamSid}, not ${this.#streamSid}`);
    switch (message.event) {
      case 'media':
        // A bidirectional stream carries the caller only; another track is not ours to hear.
        if (message.media.track !== undefined && message.media.track !== 'inbound') return;
        this.receivedAudio(Buffer.from(message.media.payload, 'base64'), Number(message.media.timestamp));
        return;
      case 'mark':
        this.receivedMark(message.mark.name);
        return;
      case 'dtmf':
        this.receivedDtmf(message.dtmf.digit);
        return;
      case 'stop':
        this.stopped();
        return;
    }
  }

  #onStart(message: TwilioStart): void {
    const { mediaFormat, customParameters } = message.start;
    if (
      mediaFormat.encoding !== 'audio/x-mulaw' ||
      mediaFormat.sampleRate !== 8000 ||
      mediaFormat.channels !== 1
    )
      throw new Error(
        `unsupported media format ${mediaFormat.encoding}/${mediaFormat.sampleRate}/${mediaFormat.channels}`,
      );
    if (message.start.streamSid !== undefined && message.start.streamSid !== message.streamSid)
      throw new Error('start: two different stream ids');
    const callId = customParameters?.callId;
    if (callId !== undefined && callId !== this.context.callId)
      throw new Error(`start for call ${callId.slice(0, 64)}, not this one`);
    if (this.#streamSid) throw new Error('a second start');
    this.#streamSid = message.streamSid;
    this.#callSid = message.start.callSid;
    this.started({ encoding: 'mulaw', sampleRate: 8000 });
  }

  #write(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }

  protected writeMedia(payload: Uint8Array): void {
    if (this.#streamSid) this.#write(mediaMessage(this.#streamSid, payload));
  }

  protected writeMark(name: string): void {
    // Before the stream started nothing has been sent, so nothing is waiting to play (acked
    // after `sendMark` returns, never inside it).
    if (this.#streamSid) this.#write(markMessage(this.#streamSid, name));
    else queueMicrotask(() => this.receivedMark(name));
  }

  protected writeClear(): void {
    if (this.#streamSid) this.#write(clearMessage(this.#streamSid));
  }

  /**
   * Keypad digits to the far end as in-band tones queued after the audio already sent (Twilio
   * plays its buffer in order); resolves once they are queued.
   */
  override async sendDtmf(digits: string, _signal: AbortSignal): Promise<ControlResult> {
    const format = this.format;
    if (!format || !this.#streamSid || this.socket.readyState !== this.socket.OPEN)
      return { ok: false, error: 'the media stream is not running' };
    let tones: Int16Array;
    try {
      tones = dtmfTones(digits, format.sampleRate);
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    const frame = format.sampleRate / 50;
    for (let at = 0; at < tones.length; at += frame) {
      const chunk = new Int16Array(frame);
      chunk.set(tones.subarray(at, Math.min(at + frame, tones.length)));
      this.sendAudio(chunk);
    }
    return { ok: true };
  }
}
