import type { WebSocket } from 'ws';
import type { InputLimits } from '../../shared/input-limits.js';
import type { ControlResult, TransferDestination, Transport, TransportCapabilities } from '../transport.js';

/**
 * A phone carrier's media-stream API (Twilio, Telnyx, Vonage, Plivo), one folder each under
 * `transports/phone/<carrier>/`, registered with one line in `phone/carriers.ts`. Every carrier
 * has the same shape (../shared/telephony.md §0): a signed webhook announces an inbound call and
 * is answered with markup or a REST command; the carrier opens a WebSocket to Parley for the
 * audio; call control (place, hang up, transfer, DTMF) is REST; status callbacks report the
 * phone lifecycle. The routes, admission and status handling are shared (`phone/`); a carrier
 * only translates.
 */
export type CarrierName = 'twilio' | 'telnyx' | 'vonage' | 'plivo';

/** A number's account at its carrier: decrypted credentials and the API base URL to call. */
export interface CarrierAccount {
  /** The carrier's credential fields (`credentialFields`), secrets decrypted. */
  credentials: Readonly<Record<string, string>>;
  /** The carrier's REST API base (the number's `apiBaseUrl`, else `defaultApiBaseUrl`), no trailing slash. */
  apiBaseUrl: string;
  /**
   * The fetch for the REST calls (default: the global one): guarded at connect time when
   * `apiBaseUrl` is the number's own (`phone/carrier-fetch.ts`).
   */
  fetch?: typeof globalThis.fetch;
}

/** An HTTP request from the carrier, as the carrier made it (signatures cover these bytes). */
export interface CarrierHttpRequest {
  method: string;
  /** The absolute public URL the carrier called (PARLEY_PUBLIC_URL + path + query), never the Host header. */
  url: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received (empty for GET and WebSocket upgrades). */
  rawBody: Buffer;
}

export type Verification = { ok: true } | { ok: false; reason: string };

/** A new inbound call announced by the carrier's webhook. */
export interface InboundOffer {
  carrierCallId: string;
  /** The caller, E.164 when the carrier gives it. */
  from: string;
  /** The number called. */
  to: string;
}

/** What the shared route answers the carrier's HTTP request with. */
export interface CarrierReply {
  status: number;
  contentType?: string;
  body: string;
}

/** CONTRACT.md phoneCallStatus values a carrier reports (telephony.md §5 lifecycle mapping). */
export type CarrierCallStatus =
  | 'queued'
  | 'ringing'
  | 'in-progress'
  | 'completed'
  | 'busy'
  | 'no-answer'
  | 'failed'
  | 'canceled';

export interface StatusReport {
  carrierCallId: string;
  status: CarrierCallStatus;
  /** The carrier's own status or event name, for logs and `phoneCallStatusReason`. */
  detail: string;
  sipCode?: number;
  /** Answering-machine detection, when the callback carries it. */
  answeredBy?: 'human' | 'machine' | 'unknown';
}

/** The public URLs of one call or number, built by the shared routes. */
export interface CallUrls {
  /** `wss://…/telephony/<carrier>/media/<callId>/<token>`: the one-time media token is in the path. */
  mediaUrl: string;
  /** Where the carrier posts status callbacks for this call. */
  statusUrl: string;
  /** Where the carrier fetches the call's markup when it needs a URL (Plivo, Vonage outbound). */
  answerUrl: string;
  /** Where Twilio posts after `<Connect>` ends (the `action`); others ignore it. */
  afterUrl: string;
}

export interface AnswerRequest {
  callId: string;
  offer: InboundOffer;
  urls: CallUrls;
}

export interface PlaceCallRequest {
  callId: string;
  from: string;
  to: string;
  urls: CallUrls;
  /** Ring this long before `no-answer` (seconds). */
  ringTimeoutSeconds: number;
  /** The carrier's own cap on the call (seconds). */
  timeLimitSeconds: number;
  /** Ask the carrier's answering-machine detection. */
  machineDetection: boolean;
}

/** One line of `carrierSetup`: what to paste where in the carrier's console. */
export interface CarrierSetupStep {
  /** Where in the console, in the carrier's words ("A call comes in", "Answer URL" …). */
  field: string;
  url?: string;
  method?: 'GET' | 'POST';
  note?: string;
}

export interface CarrierCredentialField {
  name: string;
  /** Write-only, encrypted at rest, never returned. */
  secret: boolean;
  description: string;
}

/** What the media transport may ask the carrier to do for its call (bound by the shared routes). */
export interface CallControl {
  hangUp(): Promise<ControlResult>;
  transfer(to: TransferDestination, signal: AbortSignal): Promise<ControlResult>;
  sendDtmf(digits: string, signal: AbortSignal): Promise<ControlResult>;
}

export interface MediaContext {
  callId: string;
  control: CallControl;
  limits: Pick<InputLimits, 'helloTimeoutMs'>;
  log?: { warn(obj: object, msg: string): void };
}

export interface PhoneCarrier {
  readonly name: CarrierName;
  /** "Twilio", "Telnyx" …, for the dashboard and errors. */
  readonly displayName: string;
  readonly credentialFields: readonly CarrierCredentialField[];
  readonly defaultApiBaseUrl: string;
  readonly capabilities: TransportCapabilities;
  /** The console steps for a number whose webhooks are `inboundUrl` and `statusUrl`. */
  setup(urls: { inboundUrl: string; statusUrl: string }): CarrierSetupStep[];
  /** The webhook's signature (and timestamp) against the number's account; `nowMs` for freshness. */
  verifyWebhook(req: CarrierHttpRequest, account: CarrierAccount, nowMs: number): Verification;
  /** The media WebSocket upgrade (Twilio and Plivo sign it; others: `{ ok: true }`, the path token suffices). */
  verifyMediaUpgrade(req: CarrierHttpRequest, account: CarrierAccount, nowMs: number): Verification;
  /** A webhook that announces a new inbound call; `undefined` for any other event. */
  parseInbound(req: CarrierHttpRequest): InboundOffer | undefined;
  /** Answers an admitted inbound call: markup that opens the media stream, or a REST answer (Telnyx). */
  answer(request: AnswerRequest, account: CarrierAccount, signal: AbortSignal): Promise<CarrierReply>;
  /**
   * Answers an inbound call Parley will not run: forwards it to `forwardTo` when set, else says
   * `say` and hangs up.
   */
  refuse(
    offer: InboundOffer,
    how: { say: string; forwardTo?: TransferDestination },
    account: CarrierAccount,
    signal: AbortSignal,
  ): Promise<CarrierReply>;
  /**
   * What the call's `afterUrl` answers once the media stream ended (Twilio's `<Connect action>`:
   * `<Hangup/>`); default an empty 200. A transfer does not come here: it uses the REST API.
   */
  afterStream?(req: CarrierHttpRequest): CarrierReply;
  /**
   * What a request to the call's `answerUrl` gets (carriers that fetch markup): the outbound call's
   * stream markup, or what the carrier itself pointed there (Plivo's transfer `aleg_url`, told
   * apart by `req`, the verified request).
   */
  answerOutbound?(request: { callId: string; urls: CallUrls; req?: CarrierHttpRequest }): CarrierReply;
  /** A status callback (or any webhook carrying a status); `undefined` when it carries none. */
  parseStatus(req: CarrierHttpRequest): StatusReport | undefined;
  placeCall(
    request: PlaceCallRequest,
    account: CarrierAccount,
    signal: AbortSignal,
  ): Promise<{ carrierCallId: string }>;
  /** Ends the call; "already ended" answers (404, 422 …) are success. */
  hangUp(carrierCallId: string, account: CarrierAccount, signal: AbortSignal): Promise<ControlResult>;
  /** `urls`: the call's URLs, for carriers that fetch the transfer's markup (Plivo's `aleg_url`). */
  transfer(
    carrierCallId: string,
    to: TransferDestination,
    account: CarrierAccount,
    signal: AbortSignal,
    urls?: CallUrls,
  ): Promise<ControlResult>;
  sendDtmf(
    carrierCallId: string,
    digits: string,
    account: CarrierAccount,
    signal: AbortSignal,
  ): Promise<ControlResult>;
  /** The call's media stream on an accepted WebSocket. */
  createMedia(socket: WebSocket, context: MediaContext): Transport;
}
