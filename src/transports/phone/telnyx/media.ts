/**
 * Telnyx's media WebSocket (Telnyx AsyncAPI "Stream call media over WebSocket"; ../shared
 * telephony.md §1.2), opened by the `stream_url` of the answer or dial command with
 * `stream_bidirectional_mode: rtp`. JSON text messages with base64 RTP payloads (no RTP header):
 * PCMU/PCMA at 8 kHz, or L16 (RTP network byte order, i.e. big-endian) at 8 or 16 kHz, as the
 * `start` message's `media_format` says. Media order is not guaranteed, so frames are put back in
 * `sequence_number` order (a small window; holes become silence). Decoding, 20-ms framing, marks,
 * clear, transfer and hang-up semantics are `CarrierMediaStream`'s.
 */
import type { WebSocket } from 'ws';
import type { MediaContext } from '../carrier.js';
import { CarrierMediaStream, type PhoneAudioFormat } from '../media-stream.js';
import { ReorderBuffer } from './reorder.js';
import { counterValue, parseMediaMessage, type TelnyxMediaFormat, type TelnyxMediaMessage } from './wire.js';

/** Messages held back waiting for a missing sequence number (3 × 20 ms at most). */
export const REORDER_WINDOW = 3;
/** A hole longer than this many messages is filled with this much silence only. */
const MAX_LOST_FILL = 50;
const SILENCE_BYTE = { mulaw: 0xff, alaw: 0xd5, l16: 0 } as const;

/** The stream's audio format from `start.media_format`; throws for one Parley cannot carry. */
export function telnyxAudioFormat(media: TelnyxMediaFormat): PhoneAudioFormat {
  const encoding = media.encoding.toUpperCase();
  const rate = Number(media.sample_rate);
  if (media.channels !== undefined && Number(media.channels) !== 1)
    throw new Error(`media_format.channels ${media.channels}: only mono is supported`);
  if (encoding === 'PCMU' && rate === 8000) return { encoding: 'mulaw', sampleRate: 8000 };
  if (encoding === 'PCMA' && rate === 8000) return { encoding: 'alaw', sampleRate: 8000 };
  if (encoding === 'L16' && (rate === 8000 || rate === 16000)) return { encoding: 'l16', sampleRate: rate };
  throw new Error(
    `unsupported media_format ${encoding}/${rate} (answer with stream_bidirectional_codec PCMU, or L16 at 16000)`,
  );
}

/** Swaps the bytes of 16-bit samples (RTP L16 is big-endian; Parley's PCM is little-endian). */
function swap16(input: Uint8Array, output: Uint8Array): Uint8Array {
  const out = output.subarray(0, input.length);
  for (let i = 0; i + 1 < input.length; i += 2) {
    out[i] = input[i + 1] ?? 0;
    out[i + 1] = input[i] ?? 0;
  }
  return out;
}

type Slot = Uint8Array | null;

export class TelnyxMediaStream extends CarrierMediaStream {
  readonly providerName = 'telnyx';
  /** The call's Telnyx `call_control_id` and stream, from `start`. */
  callControlId: string | undefined;
  streamId: string | undefined;
  /** Frames dropped because they arrived after their slot was filled with silence. */
  lateFrames = 0;
  lostFrames = 0;
  private lastPayloadBytes = 160;
  private swapBuffer = new Uint8Array(0);
  private outSwap = new Uint8Array(0);
  private readonly reorder = new ReorderBuffer<Slot>(REORDER_WINDOW, {
    deliver: (payload) => {
      if (payload) this.audio(payload);
    },
    lost: (count) => {
      this.lostFrames += count;
      const format = this.format;
      if (!format) return;
      const silence = new Uint8Array(this.lastPayloadBytes * Math.min(count, MAX_LOST_FILL));
      silence.fill(SILENCE_BYTE[format.encoding]);
      this.receivedAudio(silence);
    },
  });

  constructor(socket: WebSocket, context: MediaContext) {
    super(socket, context);
  }

  protected onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) throw new Error('binary message (Telnyx sends JSON text)');
    const message = parseMediaMessage(data.toString('utf8'));
    if (!message) return;
    this.handle(message);
  }

  private handle(message: TelnyxMediaMessage): void {
    switch (message.event) {
      case 'connected':
        return;
      case 'start': {
        this.callControlId = message.start.call_control_id;
        this.streamId = message.stream_id;
        this.started(telnyxAudioFormat(message.start.media_format));
        if (message.sequence_number !== undefined)
          this.reorder.expect(counterValue(message.sequence_number) + 1);
        return;
      }
      case 'media': {
        if (!this.format) throw new Error('media before start');
        const track = message.media.track;
        const inbound = track === undefined || track === 'inbound' || track === 'inbound_track';
        const payload = inbound ? Buffer.from(message.media.payload, 'base64') : null;
        if (payload && this.format.encoding === 'l16' && payload.length % 2 !== 0)
          throw new Error('odd-length L16 audio');
        if (this.reorder.push(counterValue(message.sequence_number), payload) === 'late')
          this.lateFrames += 1;
        return;
      }
      case 'dtmf':
        this.slot(message.sequence_number);
        this.receivedDtmf(message.dtmf.digit);
        return;
      case 'mark':
        this.slot(message.sequence_number);
        this.receivedMark(message.mark.name);
        return;
      case 'error':
        this.slot(message.sequence_number);
        this.context.log?.warn(
          { callId: this.context.callId, code: message.payload.code, title: message.payload.title },
          `Telnyx media stream error: ${message.payload.detail ?? message.payload.title ?? 'unknown'}`,
        );
        return;
      case 'stop':
        this.reorder.flush();
        this.stopped();
        return;
    }
  }

  /** A non-media message with a sequence number fills its slot, so media after it is not held. */
  private slot(sequence: string | number | undefined): void {
    if (sequence !== undefined && this.format) this.reorder.push(counterValue(sequence), null);
  }

  private audio(payload: Uint8Array): void {
    if (payload.length === 0) return;
    this.lastPayloadBytes = payload.length;
    if (this.format?.encoding === 'l16') {
      if (this.swapBuffer.length < payload.length) this.swapBuffer = new Uint8Array(payload.length);
      this.receivedAudio(swap16(payload, this.swapBuffer));
    } else this.receivedAudio(payload);
  }

  private write(message: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  protected writeMedia(payload: Uint8Array): void {
    let bytes = payload;
    if (this.format?.encoding === 'l16') {
      if (this.outSwap.length < payload.length) this.outSwap = new Uint8Array(payload.length);
      bytes = swap16(payload, this.outSwap);
    }
    this.write({
      event: 'media',
      media: { payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') },
    });
  }

  protected writeMark(name: string): void {
    this.write({ event: 'mark', mark: { name } });
  }

  protected writeClear(): void {
    this.write({ event: 'clear' });
  }
}
