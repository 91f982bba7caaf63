import type { AssistantCreate } from '../contract/assistant-schema.js';
import type { Call } from '../contract/call-schema.js';
import type { CarrierCallStatus, CarrierName } from './phone/carrier.js';
import type { TransferDestination, Transport } from './transport.js';

/**
 * What an entry point (the web WebSocket, a carrier's webhooks and media stream, SIP) needs from
 * the rest of Parley, as interfaces: `calls/` implements them and `server.ts` passes them in, so
 * transports sit under the engine and the product (test/structure/layers.ts) and a new medium is
 * one folder plus one line in `transports/entry-points.ts`.
 */
export type Channel = 'web' | CarrierName | 'sip';

/** Which assistant runs the call; all empty: the phone number's, else `assistant-request`. */
export interface AssistantChoice {
  assistantId?: string;
  assistant?: AssistantCreate;
  assistantOverrides?: Record<string, unknown>;
}

export interface AdmitRequest {
  teamId: string;
  channel: Channel;
  direction: 'inbound' | 'outbound';
  /** The far end: the caller (inbound) or the number called (outbound); web: a label. */
  customer: { number?: string; name?: string };
  /** The Parley phone number of a phone call (`assistantNumber`). */
  phoneNumber?: {
    id: string;
    number: string;
    assistantId?: string;
    fallbackDestination?: TransferDestination;
  };
  assistant: AssistantChoice;
  metadata?: Record<string, unknown>;
  /** The carrier's id of the call (Twilio CallSid …), when known at admission. */
  carrierCallId?: string;
  /** `assistant-request` goes here instead of the team's server (a phone number's `server`). */
  server?: { url: string; secret?: string; headers?: Record<string, string>; timeoutSeconds?: number };
}

export type Admission =
  | {
      kind: 'admitted';
      call: Call;
      /** One-time media token (only its hash is stored), bound to the call, valid until `mediaExpiresAt`. */
      mediaToken: string;
      mediaExpiresAt: number;
    }
  /**
   * No assistant could be had (assistant-request failed and no default): the call is stored and
   * ended with its terminal events; the entry point says `say` (or forwards) and hangs up.
   */
  | { kind: 'refused'; call: Call; say: string; forwardTo?: TransferDestination };

export type MediaAcceptance =
  | {
      ok: true;
      call: Call;
      /** Connects the medium; throws when the call already has one or is over. */
      attach(transport: Transport): void;
    }
  | { ok: false; code: 'bad_token' | 'not_found' | 'conflict'; reason: string };

export interface CallAdmissionPort {
  admit(request: AdmitRequest, signal?: AbortSignal): Promise<Admission>;
  /** Redeems a media token (single use, any server): the server that accepts the media runs the call. */
  acceptMedia(callId: string, token: string | undefined): Promise<MediaAcceptance>;
  /** Ends a call wherever it runs (`POST /v1/calls/:id/end`, a carrier's hang-up before media). */
  end(teamId: string, callId: string, reason: string): Promise<void>;
}

/** A carrier's status callback for a call, applied to its lifecycle (one terminal status, whatever races). */
export interface PhoneStatusPort {
  report(
    callId: string,
    status: { status: CarrierCallStatus; detail: string; sipCode?: number; answeredBy?: string },
  ): Promise<void>;
}
