/**
 * A SIP call's `Transport`: RTP audio both ways, RFC 4733 digits in, hang-up by BYE. RTP has no
 * playback acks, so Parley's own send clock resolves marks: the engine sends one frame per
 * 20-ms pacer tick, each frame's play time is tracked here, and a mark is acked when the audio
 * sent before it has played out (its last frame's end plus the far end's jitter buffer), so the
 * heard text of an interrupted reply stays exact. `clear` drops the pending marks (never acked).
 */
import type {
  ControlResult,
  HangUpRequest,
  Transport,
  TransportCapabilities,
  TransportClose,
  TransportEvent,
  TransportHandlers,
} from '../transport.js';
import type { RtpSession } from './rtp.js';

/** What a phone's jitter buffer typically holds before playing (added to a mark's play time). */
export const PLAYOUT_DELAY_MS = 40;
const FRAME_MS = 20;

/** The call's dialog, as the transport needs it. */
export interface SipDialogControl {
  /** Sends BYE and waits for its answer (bounded); resolves either way. */
  bye(): Promise<void>;
}

export class SipTransport implements Transport {
  readonly kind = 'phone' as const;
  readonly providerName = 'sip';
  readonly capabilities: TransportCapabilities = { transfer: false, dtmf: false };
  private handlers: TransportHandlers | undefined;
  /** When (performance.now) the audio sent so far has finished playing at the far end. */
  private playedUntil = 0;
  private readonly markTimers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly rtp: RtpSession,
    private readonly dialog: SipDialogControl,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(handlers: TransportHandlers): void {
    this.handlers = handlers;
    handlers.onHello({ sampleRate: 8000, frameMs: FRAME_MS, audioOutput: true, marks: true });
    this.rtp.start({
      onAudio: (frame) => {
        if (!this.closed) this.handlers?.onAudio(frame);
      },
      onDigit: (digit) => {
        if (!this.closed) this.handlers?.onDtmf?.(digit);
      },
    });
  }

  sendAudio(frame: Int16Array): void {
    if (this.closed) return;
    this.rtp.send(frame);
    this.playedUntil = Math.max(this.now(), this.playedUntil) + FRAME_MS;
  }

  sendMark(id: string): void {
    if (this.closed) return;
    const delay = Math.max(0, this.playedUntil - this.now()) + PLAYOUT_DELAY_MS;
    const timer = setTimeout(() => {
      this.markTimers.delete(id);
      if (!this.closed) this.handlers?.onMark(id);
    }, delay);
    this.markTimers.set(id, timer);
  }

  clear(): void {
    this.dropMarks();
    this.playedUntil = this.now();
    this.rtp.newTalkspurt();
  }

  send(_event: TransportEvent): void {
    // A phone line has no channel for text.
  }

  async hangUp(request: HangUpRequest): Promise<ControlResult> {
    if (this.closed) return { ok: true };
    // Taken over: another server runs the call now; this one lets go without a BYE.
    if (request.cause !== 'taken-over') await this.dialog.bye();
    this.finish({ reason: request.reason, initiator: 'server', protocolError: false });
    return { ok: true };
  }

  /** The caller hung up (BYE) or the dialog failed: the call ends with this reason. */
  remoteEnded(reason: string): void {
    this.finish({ reason, initiator: 'client', protocolError: false });
  }

  /** A digit from SIP INFO (application/dtmf-relay). */
  receivedDigit(digit: string): void {
    if (!this.closed) this.handlers?.onDtmf?.(digit);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private dropMarks(): void {
    for (const timer of this.markTimers.values()) clearTimeout(timer);
    this.markTimers.clear();
  }

  private finish(info: TransportClose): void {
    if (this.closed) return;
    this.closed = true;
    this.dropMarks();
    this.rtp.close();
    this.handlers?.onClose(info);
  }
}
