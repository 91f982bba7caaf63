import type { MessageMetrics } from '../webhooks/events/conversation-schema.js';

/**
 * How audio and control reach a call, whatever carries it: the web WebSocket protocol today,
 * a phone carrier (Twilio Media Streams and others) as one more folder beside `web/`.
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
  code: number;
  reason: string;
  /** Who closed: the client (hang-up, network) or the server. */
  initiator: 'client' | 'server';
  /** The client broke the protocol (bad JSON, wrong frame size, too many messages …). */
  protocolError: boolean;
  /** Why the server closed, when it was not a protocol error or a hang-up. */
  cause?: 'hello-timeout' | 'pong-timeout';
};

/** Close codes the engine itself closes with (the web protocol's `CloseCodes` include them). */
export const EngineCloseCodes = {
  normal: 1000,
  /** A per-call limit (user turns, conversation size) was reached. */
  callLimitReached: 4008,
} as const;

/** What a transport tells the call. Every handler is synchronous and must not throw. */
export interface TransportHandlers {
  onHello(hello: TransportHello): void;
  /** One frame of exactly `sampleRate * frameMs / 1000` samples; valid only during the call. */
  onAudio(frame: Int16Array): void;
  onUserText(text: string): void;
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
  /** Starts delivering input to `handlers`. */
  start(handlers: TransportHandlers): void;
  /** One outgoing frame (20 ms at the negotiated rate); the frame is not modified afterwards. */
  sendAudio(frame: Int16Array): void;
  /** Ask the client to ack when everything sent so far has played. */
  sendMark(id: string): void;
  /** Stop playback now and drop queued audio. */
  clear(): void;
  send(event: TransportEvent): void;
  /** Ends the connection (no-op when already closed). */
  close(code: number, reason: string): void;
}
