import type {
  ControlResult,
  HangUpRequest,
  TransferDestination,
  Transport,
  TransportEvent,
  TransportHandlers,
} from '../transports/transport.js';
import type { CallRecorder } from './call-recorder.js';

/**
 * A `Transport` that records the call it carries: the caller's frames as they arrive, the
 * assistant's frames as they are sent, `clear` as it stops playback, and the client's `hello`
 * as the start of the timeline. Everything is passed through unchanged, so the engine does not
 * know it is recorded.
 */
export class RecordingTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly recorder: CallRecorder,
  ) {
    if (inner.transfer) this.transfer = inner.transfer.bind(inner);
    if (inner.sendDtmf) this.sendDtmf = inner.sendDtmf.bind(inner);
  }

  get kind() {
    return this.inner.kind;
  }

  get providerName() {
    return this.inner.providerName;
  }

  get capabilities() {
    return this.inner.capabilities;
  }

  /** Present exactly when the inner transport has them (the engine checks `capabilities`). */
  readonly transfer?: (to: TransferDestination, signal: AbortSignal) => Promise<ControlResult>;
  readonly sendDtmf?: (digits: string, signal: AbortSignal) => Promise<ControlResult>;

  start(handlers: TransportHandlers): void {
    this.inner.start({
      ...handlers,
      onHello: (hello) => {
        this.recorder.begin(hello.sampleRate);
        handlers.onHello(hello);
      },
      onAudio: (frame) => {
        this.recorder.user(frame);
        handlers.onAudio(frame);
      },
    });
  }

  sendAudio(frame: Int16Array): void {
    this.recorder.assistant(frame);
    this.inner.sendAudio(frame);
  }

  sendMark(id: string): void {
    this.inner.sendMark(id);
  }

  clear(): void {
    this.recorder.clear();
    this.inner.clear();
  }

  send(event: TransportEvent): void {
    this.inner.send(event);
  }

  hangUp(request: HangUpRequest): Promise<ControlResult> {
    return this.inner.hangUp(request);
  }
}
