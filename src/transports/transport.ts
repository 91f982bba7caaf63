import type { MessageMetrics } from '../contract/conversation-schema.js';

/**
 * How audio and control reach a call, whatever carries it: the web WebSocket protocol
 * (`web/`), a phone carrier's media stream (`phone/<carrier>/`), SIP/RTP. Two halves:
 * - audio and messages (`sendAudio`, `sendMark`, `clear`, `send`; `TransportHandlers` inward);
 * - control (`hangUp`, and `transfer` / `sendDtmf` where `capabilities` say so), each with a
 *   result, so the engine never speaks a medium's close codes or REST calls.
 * Audio is mono PCM16 at the negotiated rate, in fixed frames both ways.
 */
export interface TransportHello {
  sampleRate: 8000 | 16000;
  /** Incoming frame duration. */
  frameMs: 10 | 20 | 30;
  /** The client plays audio (false: text-only client; replies are sent as text only). */
  audioOutput: boolean;
  /** The client acks marks when audio has played (false: audio counts as played when sent). */
  marks: boolean;
}

export type TransportClose = {
  /** The medium's own code, for logs (a WebSocket close code; absent for carriers and SIP). */
  code?: number;
  reason: string;
  /** Who closed: the client (hang-up, network) or the server. */
  initiator: 'client' | 'server';
  /** The client broke the protocol (bad JSON, wrong frame size, too many messages …). */
  protocolError: boolean;
  /**
   * Why, when it was neither a protocol error nor a plain hang-up: the client was too slow
   * (`hello-timeout`, `pong-timeout`), or the media ended because the call was transferred away
   * (a carrier's `stop` after a transfer is not a hang-up).
   */
  cause?: 'hello-timeout' | 'pong-timeout' | 'transferred';
};

/** Why the engine hangs up; each transport turns it into its medium's way of ending. */
export type HangUpCause =
  /** The call is over (either side ended it, or it was forwarded): WebSocket 1000, REST hang-up, BYE. */
  | 'completed'
  /** A per-call limit (user turns, conversation size) was reached: WebSocket 4008. */
  | 'limit-reached'
  /** Another server took the call over: this one lets go without hanging up the phone line (WebSocket 1012). */
  | 'taken-over';

export interface HangUpRequest {
  cause: HangUpCause;
  /** Human-readable; the web protocol sends it as the close reason. */
  reason: string;
}

/** Where a call is forwarded to. */
export type TransferDestination =
  | { type: 'number'; number: string; callerId?: string }
  | { type: 'sip'; sipUri: string };

/** What a control request did. `ok: false` leaves the call as it was (a failed transfer keeps the caller). */
export type ControlResult = { ok: true } | { ok: false; error: string };

export interface TransportCapabilities {
  /** `transfer()` exists: the medium can forward the caller elsewhere. */
  transfer: boolean;
  /** `sendDtmf()` exists: the medium can send keypad digits. */
  dtmf: boolean;
}

/** What a transport tells the call. Every handler is synchronous and must not throw. */
export interface TransportHandlers {
  onHello(hello: TransportHello): void;
  /** One frame of exactly `sampleRate * frameMs / 1000` samples; valid only during the call. */
  onAudio(frame: Int16Array): void;
  onUserText(text: string): void;
  /** Keypad digits from the caller (one or more of 0-9 * # A-D). */
  onDtmf?(digits: string): void;
  /** Everything sent before `sendMark(id)` has played (never called for marks dropped by `clear`). */
  onMark(id: string): void;
  /** `say`: speak this text now (or the welcome message when none). */
  onSay(text: string | undefined): void;
  /** The client asked to end the call. */
  onEnd(): void;
  /** The connection is gone; no more input. Called once. */
  onClose(info: TransportClose): void;
}

/** What the call tells the client (besides audio), transport-neutral. */
export type TransportEvent =
  | {
      type: 'status';
      status: string;
      phoneCallStatus: string;
      reason: string;
      callEndTriggerBy: string;
    }
  | { type: 'transcript'; final: boolean; text: string; messageId?: string }
  | {
      type: 'assistant-text';
      messageId: string;
      text: string;
      /** false: one sentence as it starts playing; true: the message as stored. */
      final: boolean;
      interrupted?: boolean;
    }
  | { type: 'metrics'; messageId: string; role: 'user' | 'assistant'; metrics: MessageMetrics }
  | { type: 'error'; code: string; message: string };

export interface Transport {
  readonly kind: 'web' | 'phone';
  /** Telephony provider name for `phone.provider.name`; "" for web calls. */
  readonly providerName: string;
  readonly capabilities: TransportCapabilities;
  /** Starts delivering input to `handlers`. */
  start(handlers: TransportHandlers): void;
  /** One outgoing frame (20 ms at the negotiated rate); the frame is not modified afterwards. */
  sendAudio(frame: Int16Array): void;
  /** Ask the client to ack when everything sent so far has played. */
  sendMark(id: string): void;
  /** Stop playback now and drop queued audio; marks still pending are never acked. */
  clear(): void;
  /** A message for clients that show the call (web); media-only transports ignore it. */
  send(event: TransportEvent): void;
  /**
   * Ends the call on this medium (idempotent; "already ended" is success). Resolves when the
   * request is done; never rejects. `onClose` follows unless the connection was already gone.
   */
  hangUp(request: HangUpRequest): Promise<ControlResult>;
  /** Forwards the caller (capability `transfer`). On success the media ends with cause `transferred`. */
  transfer?(to: TransferDestination, signal: AbortSignal): Promise<ControlResult>;
  /** Sends keypad digits to the far end (capability `dtmf`). */
  sendDtmf?(digits: string, signal: AbortSignal): Promise<ControlResult>;
}
