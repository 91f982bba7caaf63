// Vonage's media WebSocket (telephony.md §1.3; "WebSockets in the Vonage Voice API"): a text
// `websocket:connected` with the content-type first, then binary L16 little-endian frames of
// 20 ms both ways (640 bytes at 16 kHz, never odd lengths), marks as `notify` echoed back as
// `websocket:notify`, `clear` answered by `websocket:cleared`, DTMF as `websocket:dtmf`. Binary
// frames carry no timestamp, so there is no gap fill; there is no stop message: the socket
// closing is the hang-up (or the end of a transfer), which the base class reports.
import { CarrierMediaStream } from '../media-stream.js';
import { clearMessage, notifyMessage, parseVonageWsText } from './wire.js';

export class VonageMediaStream extends CarrierMediaStream {
  readonly providerName = 'vonage';

  protected onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (!this.format) throw new Error('audio before websocket:connected');
      if (data.length === 0) return;
      this.receivedAudio(data);
      return;
    }
    const message = parseVonageWsText(data.toString('utf8'));
    switch (message.kind) {
      case 'connected':
        this.started({ encoding: 'l16', sampleRate: message.sampleRate });
        return;
      case 'notify':
        if (message.mark !== undefined) this.receivedMark(message.mark);
        return;
      case 'dtmf':
        this.receivedDtmf(message.digits);
        return;
      case 'cleared':
        // Marks pending before the clear were already forgotten when it was sent.
        return;
      case 'other':
        this.context.log?.warn(
          { callId: this.context.callId, event: message.event },
          'vonage media event ignored',
        );
    }
  }

  protected writeMedia(payload: Uint8Array): void {
    // Copied: the base class reuses its buffer for the next frame before `ws` has written this one.
    this.socket.send(Buffer.from(payload), { binary: true });
  }

  protected writeMark(name: string): void {
    this.sendText(notifyMessage(name));
  }

  protected writeClear(): void {
    this.sendText(clearMessage());
  }

  private sendText(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }
}
