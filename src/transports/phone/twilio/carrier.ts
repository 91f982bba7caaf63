/**
 * Twilio Programmable Voice with bidirectional Media Streams (telephony.md §1.1): inbound calls
 * are answered with `<Connect><Stream>` TwiML, outbound calls are created over REST with the
 * same TwiML inline and async AMD; hang-up and transfer update the live call over REST;
 * webhooks and the media upgrade are checked with `X-Twilio-Signature` (`signature.ts`).
 * DTMF out has no Twilio command for a streamed call: the media stream sends in-band tones
 * (`TwilioMediaStream.sendDtmf`), and `sendDtmf` here says so.
 */
import type { WebSocket } from 'ws';
import type { ControlResult, TransferDestination } from '../../transport.js';
import type {
  AnswerRequest,
  CallUrls,
  CarrierAccount,
  CarrierHttpRequest,
  CarrierReply,
  MediaContext,
  PhoneCarrier,
  PlaceCallRequest,
  Verification,
} from '../carrier.js';
import { TwilioMediaStream } from './media.js';
import {
  callAlreadyEnded,
  callPath,
  errorText,
  TWILIO_API_BASE_URL,
  twilioCredentials,
  twilioError,
  twilioPost,
} from './rest.js';
import { checkTwilioSignature } from './signature.js';
import { connectStreamTwiml, dialTwiml, hangupTwiml, sayAndHangupTwiml } from './twiml.js';
import { parseTwilioInbound, parseTwilioStatus } from './webhooks.js';
import { E164_PATTERN, SIP_URI_PATTERN, webhookParams } from './wire.js';

const xml = (body: string): CarrierReply => ({ status: 200, contentType: 'text/xml; charset=utf-8', body });

/** What the `<Connect action>` URL (`CallUrls.afterUrl`) answers once the stream has ended. */
export function afterConnect(): CarrierReply {
  return xml(hangupTwiml());
}

/** Said when a forwarded call's `<Dial>` was not answered (busy, no answer, failed). */
export const DIAL_FAILED_MESSAGE = "Sorry, we couldn't connect your call. Please try again later. Goodbye.";
const DIAL_FAILED = new Set(['busy', 'no-answer', 'failed', 'canceled']);

/**
 * What the call's after URL answers: after `<Connect>` the call ends (`<Hangup/>`). After a
 * transfer's `<Dial action>` (`DialCallStatus`): Twilio accepted the transfer, so the call was
 * already reported `forwarded`; a dial that failed later (busy, no answer) cannot bring the caller
 * back to the assistant (its media stream is gone), so the caller hears an apology and the call ends.
 */
export function afterTwilioStream(req: CarrierHttpRequest): CarrierReply {
  let dialStatus: string | null = null;
  try {
    dialStatus = webhookParams(req.method, req.url, req.rawBody).get('DialCallStatus');
  } catch {
    dialStatus = null;
  }
  if (dialStatus !== null && DIAL_FAILED.has(dialStatus)) return xml(sayAndHangupTwiml(DIAL_FAILED_MESSAGE));
  return afterConnect();
}

/** Twilio's allowed ring time (`Timeout`, seconds) and call cap (`TimeLimit`, seconds). */
const RING_TIMEOUT_S = { min: 5, max: 600 };
const TIME_LIMIT_S = { min: 1, max: 14_400 };
const clamp = (value: number, { min, max }: { min: number; max: number }): number =>
  Math.min(max, Math.max(min, Math.round(value)));

function credentialsOrReason(account: CarrierAccount): { authToken: string } | { reason: string } {
  try {
    return twilioCredentials(account);
  } catch (error) {
    return { reason: errorText(error) };
  }
}

function verify(req: CarrierHttpRequest, account: CarrierAccount, urls: string[]): Verification {
  const creds = credentialsOrReason(account);
  if ('reason' in creds) return { ok: false, reason: creds.reason };
  let last: Verification = { ok: false, reason: 'X-Twilio-Signature does not match' };
  for (const url of urls) {
    last = checkTwilioSignature(
      creds.authToken,
      req.headers['x-twilio-signature'],
      url,
      req.rawBody,
      req.headers['content-type'],
    );
    if (last.ok) return last;
  }
  return last;
}

/** Checks a transfer destination; the error names what is wrong. */
export function destinationError(to: TransferDestination): string | undefined {
  if (to.type === 'number') {
    if (!E164_PATTERN.test(to.number))
      return `destination ${JSON.stringify(to.number)} is not an E.164 number`;
    if (to.callerId !== undefined && !E164_PATTERN.test(to.callerId))
      return `callerId ${JSON.stringify(to.callerId)} is not an E.164 number`;
    return undefined;
  }
  return SIP_URI_PATTERN.test(to.sipUri)
    ? undefined
    : `destination ${JSON.stringify(to.sipUri)} is not a sip: URI`;
}

/** The create-call form Parley posts for an outbound call. */
export function placeCallForm(request: PlaceCallRequest): URLSearchParams {
  if (!E164_PATTERN.test(request.to) && !SIP_URI_PATTERN.test(request.to))
    throw new Error(`customer number ${JSON.stringify(request.to)} is not E.164 or a sip: URI`);
  if (!E164_PATTERN.test(request.from))
    throw new Error(`from ${JSON.stringify(request.from)} is not an E.164 number`);
  const form = new URLSearchParams({
    To: request.to,
    From: request.from,
    Twiml: connectStreamTwiml(request.callId, request.urls),
    StatusCallback: request.urls.statusUrl,
    StatusCallbackMethod: 'POST',
    Timeout: String(clamp(request.ringTimeoutSeconds, RING_TIMEOUT_S)),
    TimeLimit: String(clamp(request.timeLimitSeconds, TIME_LIMIT_S)),
  });
  for (const event of ['initiated', 'ringing', 'answered', 'completed'])
    form.append('StatusCallbackEvent', event);
  if (request.machineDetection) {
    // Async: the stream starts at once and the verdict arrives at the status URL later.
    form.set('MachineDetection', 'DetectMessageEnd');
    form.set('AsyncAmd', 'true');
    form.set('AsyncAmdStatusCallback', request.urls.statusUrl);
    form.set('AsyncAmdStatusCallbackMethod', 'POST');
  }
  return form;
}

export const twilioCarrier: PhoneCarrier = {
  name: 'twilio',
  displayName: 'Twilio',
  credentialFields: [
    {
      name: 'accountSid',
      secret: false,
      description: 'Account SID (AC…), from the Twilio console home page',
    },
    {
      name: 'authToken',
      secret: true,
      description: 'Auth Token, beside the Account SID; signs every webhook',
    },
  ],
  defaultApiBaseUrl: TWILIO_API_BASE_URL,
  capabilities: { transfer: true, dtmf: true },

  setup({ inboundUrl, statusUrl }) {
    return [
      {
        field:
          'Phone Numbers › Active numbers › your number › Voice Configuration › A call comes in (Webhook)',
        url: inboundUrl,
        method: 'POST',
      },
      { field: 'Voice Configuration › Call status changes', url: statusUrl, method: 'POST' },
      {
        field: 'Voice Configuration › Configure with',
        note: 'Webhook, TwiML Bin, Function… : choose Webhook. Parley checks X-Twilio-Signature with your Auth Token, so the public URL must be exactly the one above.',
      },
    ];
  },

  verifyWebhook(req, account) {
    return verify(req, account, [req.url]);
  },

  verifyMediaUpgrade(req, account) {
    // Twilio signs the upgrade over the wss:// URL it connected to, with no parameters.
    const wsUrl = req.url.replace(/^https:/, 'wss:').replace(/^http:/, 'ws:');
    return verify(
      { ...req, rawBody: Buffer.alloc(0) },
      account,
      wsUrl === req.url ? [req.url] : [wsUrl, req.url],
    );
  },

  parseInbound: parseTwilioInbound,

  async answer(request: AnswerRequest) {
    return xml(connectStreamTwiml(request.callId, request.urls));
  },

  async refuse(_offer, how) {
    if (how.forwardTo && !destinationError(how.forwardTo)) return xml(dialTwiml(how.forwardTo));
    return xml(sayAndHangupTwiml(how.say));
  },

  answerOutbound(request: { callId: string; urls: CallUrls }) {
    return xml(connectStreamTwiml(request.callId, request.urls));
  },

  /** The `<Connect action>` URL, fetched when the stream ends: the call is over. */
  afterStream: afterTwilioStream,

  parseStatus: parseTwilioStatus,

  async placeCall(request, account, signal) {
    const response = await twilioPost(account, '/Calls.json', placeCallForm(request), signal);
    const sid = (response.body as { sid?: unknown } | undefined)?.sid;
    if (response.status < 200 || response.status >= 300) throw twilioError(response, 'create call');
    if (typeof sid !== 'string' || !/^CA[0-9A-Za-z]{1,64}$/.test(sid))
      throw twilioError({ status: response.status, body: 'the answer has no call sid' }, 'create call');
    return { carrierCallId: sid };
  },

  async hangUp(carrierCallId, account, signal): Promise<ControlResult> {
    try {
      const form = new URLSearchParams({ Status: 'completed' });
      const response = await twilioPost(account, callPath(carrierCallId), form, signal);
      if ((response.status >= 200 && response.status < 300) || callAlreadyEnded(response))
        return { ok: true };
      return { ok: false, error: twilioError(response, 'hang-up').message };
    } catch (error) {
      return { ok: false, error: `Twilio hang-up failed: ${errorText(error)}` };
    }
  },

  async transfer(carrierCallId, to, account, signal, urls): Promise<ControlResult> {
    const invalid = destinationError(to);
    if (invalid) return { ok: false, error: invalid };
    try {
      // Accepted here means forwarded; a dial that fails later reaches `afterTwilioStream`.
      const form = new URLSearchParams({
        Twiml: dialTwiml(to, urls ? { action: urls.afterUrl } : {}),
      });
      const response = await twilioPost(account, callPath(carrierCallId), form, signal);
      if (response.status >= 200 && response.status < 300) return { ok: true };
      return { ok: false, error: twilioError(response, 'transfer').message };
    } catch (error) {
      return { ok: false, error: `Twilio transfer failed: ${errorText(error)}` };
    }
  },

  async sendDtmf(): Promise<ControlResult> {
    return {
      ok: false,
      error:
        'Twilio has no REST command to send digits into a call on a media stream; the media stream sends them as in-band tones',
    };
  },

  createMedia(socket: WebSocket, context: MediaContext) {
    return new TwilioMediaStream(socket, context);
  },
};
