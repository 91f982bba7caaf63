/**
 * A Plivo Audio Stream (bidirectional `<Stream>`) as a Parley `Transport`: parses the dialect of
 * ./wire.ts and writes `playAudio`, `checkpoint` and `clearAudio`. Decoding, 20-ms framing, gap
 * silence, marks, clear, transfer and hang-up semantics are the shared `CarrierMediaStream`'s.
 * Marks map to checkpoints, acked by `playedStream` once the audio before them has played; a
 * `clearAudio` is answered by `clearedAudio`, and checkpoints it dropped never count as played.
 */
import type { WebSocket } from 'ws';
import type { MediaContext } from '../carrier.js';
import { CarrierMediaStream } from '../media-stream.js';
import {
  checkpointMessage,
  clearAudioMessage,
  parsePlivoMessage,
  playAudioMessage,
  plivoAudioFormat,
} from './wire.js';

export class PlivoMediaStream extends CarrierMediaStream {
  readonly providerName = 'plivo';
  /** Plivo's stream id, from `start` (every checkpoint and clear names it). */
  streamId: string | undefined;
  /** Plivo's CallUUID, from `start` (an outbound call's id at Plivo once it is answered). */
  carrierCallId: string | undefined;
  /** The first media timestamp: Plivo's timestamps are made relative to it for gap filling. */
  private firstTimestamp: number | undefined;

  constructor(socket: WebSocket, context: MediaContext) {
    super(socket, context);
  }

  protected onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) throw new Error('binary message (Plivo sends JSON text)');
    const message = parsePlivoMessage(data.toString('utf8'));
    switch (message.event) {
      case 'start': {
        const format = plivoAudioFormat(message.start.mediaFormat);
        this.streamId = message.start.streamId;
        this.carrierCallId = message.start.callId;
        this.started(format);
        return;
      }
      case 'media': {
        if (!this.format) throw new Error('media before start');
        const payload = Buffer.from(message.media.payload, 'base64');
        const ts = message.media.timestamp === undefined ? Number.NaN : Number(message.media.timestamp);
        let relative: number | undefined;
        if (Number.isFinite(ts)) {
          this.firstTimestamp ??= ts;
          relative = ts - this.firstTimestamp;
        }
        this.receivedAudio(payload, relative);
        return;
      }
      case 'dtmf':
        if (!this.format) throw new Error('dtmf before start');
        this.receivedDtmf(message.dtmf.digit);
        return;
      case 'playedStream':
        this.receivedMark(message.name);
        return;
      case 'clearedAudio':
        // The clear is done; the base class already forgot the checkpoints it dropped.
        return;
      case 'stop':
        this.stopped();
        return;
    }
  }

  private sendJson(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }

  protected writeMedia(payload: Uint8Array): void {
    if (this.format) this.sendJson(playAudioMessage(this.format, payload));
  }

  protected writeMark(name: string): void {
    if (this.streamId) this.sendJson(checkpointMessage(this.streamId, name));
  }

  protected writeClear(): void {
    if (this.streamId) this.sendJson(clearAudioMessage(this.streamId));
  }
}
