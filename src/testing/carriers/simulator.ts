import type { CarrierName } from '../../transports/phone/carrier.js';

/**
 * A phone carrier played by the test suite, in the carrier's exact dialect, over real sockets
 * against the real server (one folder per carrier beside this file). The conformance suite
 * (test/phone/carrier-conformance.test.ts) runs every carrier through the same cases with these.
 */
export interface CarrierSimulator {
  readonly carrier: CarrierName;
  /** The credentials to register the number with (`POST /v1/phone-numbers` `credentials`). */
  readonly credentials: Record<string, string>;
  /** The fake REST API's base URL (the number's `apiBaseUrl`); valid after `start()`. */
  readonly apiBaseUrl: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /**
   * The carrier's webhook announcing an inbound call, signed (or badly signed, or stale), to the
   * number's inbound URL from `carrierSetup`. When the answer opens a media stream (markup, or a
   * REST answer for Telnyx), the simulator connects it and resolves `media` once the stream started.
   */
  callIn(options: {
    inboundUrl: string;
    from: string;
    to: string;
    signature?: 'valid' | 'bad' | 'stale';
  }): Promise<{ status: number; body: string; media?: SimulatedMedia }>;
  /** The next call Parley placed through the fake REST API (resolves when it arrives). */
  nextOutbound(timeoutMs?: number): Promise<SimulatedOutbound>;
  /** Every request the fake REST API received, in order. */
  readonly restLog: readonly RestRequest[];
}

export interface RestRequest {
  method: string;
  path: string;
  /** Parsed body (form fields, or JSON). */
  body: unknown;
  /** What the simulator understood it as. */
  action: 'create-call' | 'hangup' | 'transfer' | 'dtmf' | 'answer' | 'other';
}

export interface SimulatedOutbound {
  from: string;
  to: string;
  carrierCallId: string;
  /** The callee picks up (a person, or an answering machine for AMD): status callbacks, then media. */
  answer(options?: { machine?: boolean }): Promise<SimulatedMedia>;
  /** The call is never answered: the carrier's status callbacks for this outcome. */
  fail(outcome: 'busy' | 'no-answer' | 'failed'): Promise<void>;
}

export interface SimulatedMedia {
  readonly carrierCallId: string;
  /** Caller audio (PCM16 at 8 kHz, or the stream's rate), sent as the carrier does, at real-time pace. */
  speak(pcm: Int16Array, sampleRate: number): Promise<void>;
  silence(ms: number): Promise<void>;
  /** Keypad digits from the caller, in the dialect's DTMF message. */
  press(digits: string): void;
  /** The caller hangs up: the stream's stop and the status callback that follow. */
  hangUp(): Promise<void>;
  /** Raw message to the media socket (malformed-input tests). */
  sendRaw(data: string | Buffer): void;
  /** What the caller heard so far (PCM16 at `heardRate`): played at 1×, minus what a clear dropped. */
  heard(): Int16Array;
  readonly heardRate: number;
  /** Marks acked as played, and how many clears arrived. */
  readonly marksPlayed: readonly string[];
  readonly clears: number;
  /** Resolves when the media socket closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
}
