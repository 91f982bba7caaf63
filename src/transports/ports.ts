/**
 * What an entry point (the web WebSocket, a carrier's webhooks and media stream, SIP) needs from
 * the rest of Parley, as interfaces: `calls/` implements them and `server.ts` passes them in, so
 * transports sit under the engine and the product (test/structure/layers.ts) and a new medium is
 * one folder plus one line in `transports/entry-points.ts`.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import type { AssistantCreate } from '../contract/assistant-schema.js';
import type { Call } from '../contract/call-schema.js';
import type { InputLimits } from '../shared/input-limits.js';
import type { CarrierCallStatus, CarrierName } from './phone/carrier.js';
import type { PhoneDirectory } from './phone/phone-ports.js';
import type { TransferDestination, Transport } from './transport.js';

/** What carries a call (stored on the call row; `phone.provider.name` of a phone call's events). */
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
  server?: {
    url: string;
    secret?: string;
    headers?: Record<string, string>;
    timeoutSeconds?: number;
    format?: 'interactly' | 'hms';
  };
  /**
   * How long the media token is valid and the call waits for its media (ms); a call whose media
   * never comes ends `no-answer`. Default: the server's (60 s) for web and inbound calls, 180 s
   * for outbound phone calls (ringing, then the carrier's answering-machine detection).
   */
  mediaTtlMs?: number;
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
      /** The media left before it was attached (the socket closed meanwhile): the call ends `no-answer`. */
      release(reason: string): Promise<void>;
    }
  | { ok: false; code: 'bad_token' | 'not_found' | 'conflict'; reason: string };

export interface CallAdmissionPort {
  admit(request: AdmitRequest, signal?: AbortSignal): Promise<Admission>;
  /** Redeems a media token (single use, any server): the server that accepts the media runs the call. */
  acceptMedia(callId: string, token: string | undefined): Promise<MediaAcceptance>;
  /** Ends a call wherever it runs (`POST /v1/calls/:id/end`, a carrier's hang-up before media). */
  end(teamId: string, callId: string, reason: string): Promise<void>;
  /** Records the carrier's id of a call (an outbound call, once the carrier accepted it). */
  setCarrierCallId(callId: string, carrierCallId: string): Promise<void>;
  /** The call a carrier's status callback names; undefined when there is none. */
  findByCarrierId(
    channel: Channel,
    carrierCallId: string,
  ): Promise<{ call: Call; phoneNumberId?: string } | undefined>;
}

/** `POST /v1/calls` with a `phoneNumberId`: an outbound phone call, as the API received it. */
export interface OutboundCallRequest extends AssistantChoice {
  phoneNumberId: string;
  /** The number to call (E.164, checked by the route). */
  customer: { number: string; name?: string };
  metadata?: Record<string, unknown>;
}

/** Places outbound phone calls (the phone entry point implements it). */
export interface OutboundCalls {
  /**
   * Admits the call (`CallAdmissionPort.admit`, direction `outbound`) and asks the number's
   * carrier to place it. Throws an `ApiError` (404 unknown number, 400 …) naming the field.
   */
  place(teamId: string, request: OutboundCallRequest, signal?: AbortSignal): Promise<{ call: Call }>;
}

/** What every entry point gets (`transports/entry-points.ts`). */
export interface EntryPointDeps {
  admission: CallAdmissionPort;
  phoneStatus: PhoneStatusPort;
  /** The base URL clients and carriers reach this server at (http[s]://host[:port]). */
  publicUrl(): string;
  /** Per-call bounds on client input (a web socket's rate, hello and ping limits). */
  inputLimits: InputLimits;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** The phone-number store (`phone-numbers/`), for the phone entry point. */
  phoneNumbers?: PhoneDirectory;
  /** The server's settings (the SIP entry point reads its port, address and RTP ports). */
  config?: Config;
  /**
   * The operator allows private, loopback and link-local addresses (`PARLEY_ALLOW_PRIVATE_WEBHOOKS`):
   * carrier REST calls to a number's own `apiBaseUrl` are vetted at connect time unless so. Default false.
   */
  allowPrivateNetworks?: boolean;
}

/** What an entry point offers once registered. */
export interface MountedEntryPoint {
  /** Outbound phone calls through this entry point (`POST /v1/calls` with `phoneNumberId`). */
  outbound?: OutboundCalls;
}

/**
 * One way calls reach Parley (`web`, `phone`, `sip`): it registers its routes at the root of the
 * server (outside the API key check: media and carrier webhooks authenticate themselves).
 */
export interface EntryPoint {
  name: string;
  register(app: FastifyInstance, deps: EntryPointDeps): Promise<MountedEntryPoint | undefined>;
}

/** A carrier's status callback for a call, applied to its lifecycle (one terminal status, whatever races). */
export interface PhoneStatusPort {
  report(
    callId: string,
    status: { status: CarrierCallStatus; detail: string; sipCode?: number; answeredBy?: string },
  ): Promise<void>;
}
