import { type Clock, systemClock } from '../shared/clock.js';
import type {
  ControlResult,
  HangUpCause,
  HangUpRequest,
  TransferDestination,
  Transport,
  TransportCapabilities,
  TransportClose,
  TransportEvent,
  TransportHandlers,
  TransportHello,
} from '../transports/transport.js';

/**
 * A scripted client for tests: it says hello, sends audio frames and text, plays the audio it
 * gets (acking each mark after `ackDelayMs`, like a client whose playback keeps up), and keeps
 * a log of everything the server sent.
 */
export type FakeTransportEntry =
  | TransportEvent
  | { type: 'mark'; id: string }
  | { type: 'clear' }
  | { type: 'closed'; cause?: HangUpCause; code?: number; reason: string }
  | { type: 'transfer'; to: TransferDestination }
  | { type: 'dtmf'; digits: string };

export class FakeTransport implements Transport {
  readonly kind = 'web' as const;
  /** `phone.provider.name` ("" like a web client; tests of phone behaviour name a carrier). */
  providerName = '';
  /** What control the scripted medium offers; `transferResult` / `dtmfResult` are its answers. */
  capabilities: TransportCapabilities = { transfer: false, dtmf: false };
  transferResult: ControlResult = { ok: true };
  dtmfResult: ControlResult = { ok: true };
  readonly log: FakeTransportEntry[] = [];
  /** Every `hangUp` the call asked for, also those after the media was gone (a no-op then). */
  readonly hangUpRequests: HangUpRequest[] = [];
  audioFrames = 0;
  /** Audio frames received since the last `clear` (what the client would be playing). */
  private handlers: TransportHandlers | undefined;
  closed: { cause?: HangUpCause; code?: number; reason: string } | undefined;
  private cleared = 0;
  ackMarks = true;

  constructor(
    private readonly clock: Clock = systemClock,
    public ackDelayMs = 0,
  ) {}

  // ---- server side (Transport)
  start(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  sendAudio(_frame: Int16Array): void {
    if (this.closed) return;
    this.audioFrames++;
  }

  sendMark(id: string): void {
    if (this.closed) return;
    this.log.push({ type: 'mark', id });
    if (!this.ackMarks) return;
    const epoch = this.cleared;
    this.clock.setTimeout(() => {
      if (this.closed || epoch !== this.cleared) return; // cleared audio is never played
      this.handlers?.onMark(id);
    }, this.ackDelayMs);
  }

  clear(): void {
    this.cleared++;
    this.log.push({ type: 'clear' });
  }

  send(event: TransportEvent): void {
    if (this.closed) return;
    this.log.push(event);
  }

  async hangUp({ cause, reason }: HangUpRequest): Promise<ControlResult> {
    this.hangUpRequests.push({ cause, reason });
    if (this.closed) return { ok: true };
    this.closed = { cause, reason };
    this.log.push({ type: 'closed', cause, reason });
    this.handlers?.onClose({ reason, initiator: 'server', protocolError: false });
    return { ok: true };
  }

  /** Only called when `capabilities.transfer`; a success ends the media as a carrier's `stop` does. */
  async transfer(to: TransferDestination): Promise<ControlResult> {
    this.log.push({ type: 'transfer', to });
    const result = this.transferResult;
    if (result.ok && !this.closed) {
      this.closed = { reason: 'transferred' };
      this.log.push({ type: 'closed', reason: 'transferred' });
      this.handlers?.onClose({
        reason: 'transferred',
        initiator: 'client',
        protocolError: false,
        cause: 'transferred',
      });
    }
    return result;
  }

  async sendDtmf(digits: string): Promise<ControlResult> {
    this.log.push({ type: 'dtmf', digits });
    return this.dtmfResult;
  }

  /** The caller pressed keys. */
  dtmf(digits: string): void {
    this.h.onDtmf?.(digits);
  }

  // ---- client side
  private get h(): TransportHandlers {
    if (!this.handlers) throw new Error('transport not started');
    return this.handlers;
  }

  hello(hello: Partial<TransportHello> = {}): void {
    this.h.onHello({ sampleRate: 16000, frameMs: 20, audioOutput: true, marks: true, ...hello });
  }

  audio(frame: Int16Array): void {
    this.h.onAudio(frame);
  }

  userText(text: string): void {
    this.h.onUserText(text);
  }

  say(text?: string): void {
    this.h.onSay(text);
  }

  end(): void {
    this.h.onEnd();
  }

  /** The client goes away (hang-up, or a protocol error when `protocolError`). */
  disconnect(info: Partial<TransportClose> = {}): void {
    if (this.closed) return;
    const close: TransportClose = {
      code: 1000,
      reason: 'client left',
      initiator: 'client',
      protocolError: false,
      ...info,
    };
    this.closed = { ...(close.code !== undefined ? { code: close.code } : {}), reason: close.reason };
    this.log.push({ type: 'closed', ...this.closed });
    this.h.onClose(close);
  }

  of<T extends FakeTransportEntry['type']>(type: T): Extract<FakeTransportEntry, { type: T }>[] {
    return this.log.filter((e) => e.type === type) as Extract<FakeTransportEntry, { type: T }>[];
  }
}
