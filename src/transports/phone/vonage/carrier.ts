// Vonage Voice API with its WebSocket endpoint (telephony.md §1.3): the application's answer URL
// returns an NCCO that connects the call to Parley's media WebSocket (binary L16 16 kHz), events
// go to the event URL, webhooks are signed (HS256 JWT with the signature secret and the body's
// hash), call control is REST with an RS256 JWT from the application's private key. Control
// always names the phone leg's uuid: the WebSocket is a leg of its own.
import type { WebSocket } from 'ws';
import type { TransferDestination, Transport } from '../../transport.js';
import type {
  AnswerRequest,
  CarrierAccount,
  CarrierHttpRequest,
  CarrierReply,
  InboundOffer,
  MediaContext,
  PhoneCarrier,
  StatusReport,
  Verification,
} from '../carrier.js';
import { verifyWebhookJwt } from './jwt.js';
import { VonageMediaStream } from './media.js';
import { createCall, hangUpCall, sendCallDtmf, transferCall } from './rest.js';
import {
  connectDestinationNcco,
  connectWebsocketNcco,
  parseAnswerWebhook,
  parseEventWebhook,
  toE164,
  webhookFields,
} from './wire.js';

const json = (value: unknown): CarrierReply => ({
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify(value),
});

function verify(req: CarrierHttpRequest, account: CarrierAccount, nowMs: number): Verification {
  const secret = account.credentials.signatureSecret;
  if (!secret) return { ok: false, reason: 'the number has no Vonage signatureSecret' };
  const check = verifyWebhookJwt(req.headers.authorization, secret, req.rawBody, nowMs);
  if (!check.ok) return check;
  const appId = check.claims.application_id;
  const expected = account.credentials.applicationId;
  if (typeof appId === 'string' && expected && appId !== expected) {
    return { ok: false, reason: `JWT application_id ${appId} is not the number's application` };
  }
  return { ok: true };
}

export const vonageCarrier: PhoneCarrier = {
  name: 'vonage',
  displayName: 'Vonage',
  credentialFields: [
    {
      name: 'applicationId',
      secret: false,
      description: 'The Voice application ID (Vonage dashboard → Applications).',
    },
    {
      name: 'privateKey',
      secret: true,
      description:
        "The application's private key (PEM, generated with the application): signs the RS256 JWT of every REST call.",
    },
    {
      name: 'signatureSecret',
      secret: true,
      description: "The account's signature secret (API settings): verifies the HS256-signed webhooks.",
    },
  ],
  defaultApiBaseUrl: 'https://api.nexmo.com',
  capabilities: { transfer: true, dtmf: true },

  setup({ inboundUrl, statusUrl }) {
    return [
      {
        field: 'Applications → your application → Capabilities → Voice → Answer URL',
        url: inboundUrl,
        method: 'POST',
        note: 'HTTP POST, so the signed webhook covers the call details in the body.',
      },
      {
        field: 'Applications → your application → Capabilities → Voice → Event URL',
        url: statusUrl,
        method: 'POST',
      },
      {
        field: 'Applications → your application → Capabilities → Voice → Signed webhooks',
        note: 'Turn on; paste the account signature secret (API settings) as signatureSecret.',
      },
      {
        field: 'Applications → your application → Generate public and private key',
        note: 'Paste the downloaded private.key as privateKey and the application ID as applicationId.',
      },
      { field: 'Applications → your application → Link numbers', note: 'Link this number.' },
    ];
  },

  verifyWebhook: verify,

  verifyMediaUpgrade() {
    // Vonage does not sign the WebSocket upgrade; the one-time token in the path authenticates it.
    return { ok: true };
  },

  parseInbound(req): InboundOffer | undefined {
    const answer = parseAnswerWebhook(webhookFields(req));
    if (!answer) return undefined;
    return { carrierCallId: answer.uuid, from: toE164(answer.from || 'anonymous'), to: toE164(answer.to) };
  },

  async answer(request: AnswerRequest): Promise<CarrierReply> {
    return json(
      connectWebsocketNcco({
        mediaUrl: request.urls.mediaUrl,
        statusUrl: request.urls.statusUrl,
        from: request.offer.to,
        callId: request.callId,
      }),
    );
  },

  async refuse(offer: InboundOffer, how: { say: string; forwardTo?: TransferDestination }) {
    if (how.forwardTo) {
      try {
        return json(connectDestinationNcco(how.forwardTo, offer.to));
      } catch {
        // An unusable fallback destination: say the apology instead.
      }
    }
    // The NCCO ends after its last action: Vonage hangs up once the text is spoken.
    return json([{ action: 'talk', text: how.say }]);
  },

  answerOutbound({ callId, urls }) {
    // Outbound calls carry their NCCO inline; this answers a console-configured answer URL too.
    return json(connectWebsocketNcco({ mediaUrl: urls.mediaUrl, statusUrl: urls.statusUrl, callId }));
  },

  parseStatus(req): StatusReport | undefined {
    return parseEventWebhook(webhookFields(req));
  },

  placeCall: createCall,
  hangUp: hangUpCall,
  // A 204 means forwarded: the phone leg runs the connect NCCO from there, and a destination that
  // is busy or does not answer later fails on Vonage's side (no stream is left to bring the caller
  // back; the call was reported `forwarded`). A refused transfer (4xx) keeps the caller here.
  transfer: transferCall,
  sendDtmf: sendCallDtmf,

  createMedia(socket: WebSocket, context: MediaContext): Transport {
    return new VonageMediaStream(socket, context);
  },
};
