/**
 * Telnyx as a Parley phone carrier (Call Control v2 + media streaming; ../shared/telephony.md
 * §1.2). Inbound: the Voice API application's webhook posts `call.initiated` (Ed25519-signed);
 * Parley answers with the REST command `actions/answer` carrying `stream_url` (the one-time media
 * URL), `stream_track: inbound_track`, `stream_bidirectional_mode: rtp` (Telnyx's default is mp3),
 * `stream_bidirectional_codec: PCMU`, `client_state` (base64 of the Parley call id) and the call's
 * status URL as `webhook_url`, then replies 200 with an empty body. Outbound: `POST /v2/calls` with
 * the same stream settings. Every later event of the call (`call.answered`, `call.hangup`,
 * `call.machine.detection.ended`, `streaming.*`) is a webhook with the same envelope: `parseStatus`
 * maps them (status.ts). Control: `actions/hangup` (422/90018 = already ended = success),
 * `actions/transfer {to, from?}`, `actions/send_dtmf {digits}`.
 */
import type { WebSocket } from 'ws';
import type { ControlResult, TransferDestination } from '../../transport.js';
import type {
  AnswerRequest,
  CarrierAccount,
  CarrierHttpRequest,
  CarrierReply,
  InboundOffer,
  MediaContext,
  PhoneCarrier,
  PlaceCallRequest,
  StatusReport,
  Verification,
} from '../carrier.js';
import { TelnyxMediaStream } from './media.js';
import {
  callCommand,
  connectionIdOf,
  describeError,
  destinationAddress,
  isE164,
  TELNYX_API_BASE_URL,
  telnyxPost,
} from './rest.js';
import { verifyTelnyxSignature } from './signature.js';
import { telnyxStatus } from './status.js';
import { parseWebhook, telnyxDialResponseChecker } from './wire.js';

/** The stream settings every answer and dial command carries. */
export function streamSettings(mediaUrl: string): Record<string, string> {
  return {
    stream_url: mediaUrl,
    stream_track: 'inbound_track',
    stream_bidirectional_mode: 'rtp',
    stream_bidirectional_codec: 'PCMU',
  };
}

/** `client_state` must be base64; Parley puts its call id there. */
export const encodeClientState = (callId: string): string => Buffer.from(callId, 'utf8').toString('base64');
export const decodeClientState = (state: string | null | undefined): string | undefined =>
  state ? Buffer.from(state, 'base64').toString('utf8') : undefined;

/** How long a refusal message takes to say, before the hang-up (no webhook hook for `call.speak.ended`). */
export function refusalSpeechMs(text: string): number {
  return Math.min(30_000, 1500 + 70 * text.length);
}

const DTMF_DIGITS = /^[0-9*#A-DwW]{1,64}$/;
const RING_TIMEOUT_RANGE = [5, 600] as const;
const TIME_LIMIT_RANGE = [30, 14_400] as const;
const clamp = (value: number, [min, max]: readonly [number, number]) =>
  Math.min(max, Math.max(min, Math.round(value)));

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const telnyxCarrier: PhoneCarrier = {
  name: 'telnyx',
  displayName: 'Telnyx',
  credentialFields: [
    {
      name: 'apiKey',
      secret: true,
      description: 'API key (Portal → Account settings → Keys & Credentials → API Keys).',
    },
    {
      name: 'publicKey',
      secret: false,
      description:
        'The account public key, base64 (Keys & Credentials → Public Key); verifies the Ed25519 webhook signatures.',
    },
    {
      name: 'connectionId',
      secret: false,
      description: 'The id of the Voice API application (Call Control connection) the number is assigned to.',
    },
  ],
  defaultApiBaseUrl: TELNYX_API_BASE_URL,
  capabilities: { transfer: true, dtmf: true },

  setup({ inboundUrl, statusUrl }) {
    return [
      {
        field: 'Voice API application → Webhook URL (API v2)',
        url: inboundUrl,
        method: 'POST',
        note: 'Parley answers call.initiated itself (actions/answer) and opens the media stream; leave "Webhook failover URL" empty.',
      },
      {
        field: 'Numbers → this number → Voice → Connection or App',
        note: 'Assign the number to that Voice API application.',
      },
      {
        field: 'Voice API application → Application ID',
        note: 'Use it as credentials.connectionId (outbound calls are placed through it).',
      },
      {
        field: 'Keys & Credentials → Public Key',
        note: 'Use it as credentials.publicKey; an API key as credentials.apiKey.',
      },
      {
        field: 'Call status webhooks',
        url: statusUrl,
        method: 'POST',
        note: 'Nothing to paste: Parley sets this as webhook_url of each call it answers or places.',
      },
    ];
  },

  verifyWebhook(req: CarrierHttpRequest, account: CarrierAccount, nowMs: number): Verification {
    return verifyTelnyxSignature({
      rawBody: req.rawBody,
      signature: req.headers['telnyx-signature-ed25519'],
      timestamp: req.headers['telnyx-timestamp'],
      publicKey: account.credentials.publicKey,
      nowMs,
    });
  },

  verifyMediaUpgrade(): Verification {
    // Telnyx does not sign the WebSocket upgrade; the one-time token in the path authenticates it.
    return { ok: true };
  },

  parseInbound(req: CarrierHttpRequest): InboundOffer | undefined {
    const { data } = parseWebhook(req.rawBody);
    if (data.event_type !== 'call.initiated') return undefined;
    const { payload } = data;
    // Parley's own outbound calls also start with call.initiated (direction "outgoing").
    if (payload.direction !== undefined && payload.direction !== 'incoming') return undefined;
    if (!payload.to) throw new Error('call.initiated without "to"');
    return { carrierCallId: payload.call_control_id, from: payload.from ?? '', to: payload.to };
  },

  async answer({ callId, offer, urls }: AnswerRequest, account, signal): Promise<CarrierReply> {
    const response = await telnyxPost(
      account,
      `/v2/calls/${encodeURIComponent(offer.carrierCallId)}/actions/answer`,
      {
        ...streamSettings(urls.mediaUrl),
        client_state: encodeClientState(callId),
        webhook_url: urls.statusUrl,
        webhook_url_method: 'POST',
        command_id: `answer-${callId}`,
      },
      signal,
    );
    if (response.status < 200 || response.status >= 300)
      throw new Error(`answer: ${describeError(response)}`);
    return { status: 200, body: '' };
  },

  async refuse(offer, how, account, signal): Promise<CarrierReply> {
    const id = offer.carrierCallId;
    if (how.forwardTo) {
      // A forward that cannot be made (bad destination, REST error) falls back to the apology.
      const result = await telnyxCarrier.transfer(id, how.forwardTo, account, signal);
      if (result.ok) return { status: 200, body: '' };
    }
    const answered = await callCommand(account, id, 'answer', { command_id: `refuse-${id}` }, signal);
    const spoken = answered.ok
      ? await callCommand(
          account,
          id,
          'speak',
          { payload: how.say, payload_type: 'text', voice: 'female', language: 'en-US' },
          signal,
        )
      : answered;
    const hangUp = () => void callCommand(account, id, 'hangup', {}, AbortSignal.timeout(10_000), true);
    if (spoken.ok) setTimeout(hangUp, refusalSpeechMs(how.say)).unref();
    else hangUp();
    return { status: 200, body: '' };
  },

  parseStatus(req: CarrierHttpRequest): StatusReport | undefined {
    return telnyxStatus(parseWebhook(req.rawBody));
  },

  async placeCall(request: PlaceCallRequest, account, signal): Promise<{ carrierCallId: string }> {
    if (!isE164(request.from)) throw new Error(`from ${JSON.stringify(request.from)} is not an E.164 number`);
    const to = request.to.startsWith('sip')
      ? destinationAddress({ type: 'sip', sipUri: request.to })
      : destinationAddress({ type: 'number', number: request.to });
    const response = await telnyxPost(
      account,
      '/v2/calls',
      {
        connection_id: connectionIdOf(account),
        to,
        from: request.from,
        ...streamSettings(request.urls.mediaUrl),
        webhook_url: request.urls.statusUrl,
        webhook_url_method: 'POST',
        client_state: encodeClientState(request.callId),
        command_id: `dial-${request.callId}`,
        timeout_secs: clamp(request.ringTimeoutSeconds, RING_TIMEOUT_RANGE),
        time_limit_secs: clamp(request.timeLimitSeconds, TIME_LIMIT_RANGE),
        ...(request.machineDetection ? { answering_machine_detection: 'detect' } : {}),
      },
      signal,
    );
    if (response.status < 200 || response.status >= 300) throw new Error(`dial: ${describeError(response)}`);
    if (!telnyxDialResponseChecker.Check(response.body))
      throw new Error('dial: Telnyx answered without data.call_control_id');
    return { carrierCallId: response.body.data.call_control_id };
  },

  hangUp(carrierCallId, account, signal): Promise<ControlResult> {
    return callCommand(account, carrierCallId, 'hangup', {}, signal, true);
  },

  async transfer(carrierCallId, to: TransferDestination, account, signal): Promise<ControlResult> {
    let address: string;
    try {
      address = destinationAddress(to);
    } catch (error) {
      return { ok: false, error: errorText(error) };
    }
    // `from` defaults to the original caller's number at Telnyx; a callerId overrides it.
    const from = to.type === 'number' ? to.callerId : undefined;
    return callCommand(
      account,
      carrierCallId,
      'transfer',
      { to: address, ...(from ? { from } : {}) },
      signal,
    );
  },

  sendDtmf(carrierCallId, digits, account, signal): Promise<ControlResult> {
    if (!DTMF_DIGITS.test(digits))
      return Promise.resolve({
        ok: false,
        error: `invalid DTMF digits ${JSON.stringify(digits)} (0-9 * # A-D w W)`,
      });
    return callCommand(account, carrierCallId, 'send_dtmf', { digits, duration_millis: 250 }, signal);
  },

  createMedia(socket: WebSocket, context: MediaContext) {
    return new TelnyxMediaStream(socket, context);
  },
};
