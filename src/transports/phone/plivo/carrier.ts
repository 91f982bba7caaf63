/**
 * Plivo (Voice API + Audio Streams) as a Parley `PhoneCarrier` (../shared/telephony.md §1.4).
 * Inbound: the number's XML application fetches the answer URL (signed V3, ./signature.ts) and
 * gets `<Stream>` markup (./xml.ts); Plivo opens the media WebSocket (./media.ts). Outbound:
 * `POST Call/` with `answer_url`, `ring_url` and — always — `hangup_url` (without it Plivo
 * re-requests the answer URL at hang-up and opens a second stream: bolna #148). Call control is
 * REST (./rest.ts). A transfer points the A leg at `aleg_url` = the call's answer URL with
 * `?transfer=<base64url destination>`, which the shared route answers with `plivoTransferReply`.
 */
import type { WebSocket } from 'ws';
import type { ControlResult, TransferDestination } from '../../transport.js';
import type {
  CallUrls,
  CarrierAccount,
  CarrierHttpRequest,
  CarrierReply,
  InboundOffer,
  MediaContext,
  PhoneCarrier,
  Verification,
} from '../carrier.js';
import { PlivoMediaStream } from './media.js';
import { isSuccess, PLIVO_API_BASE, PlivoApiError, plivoErrorText, plivoRequest } from './rest.js';
import { verifyPlivoV3 } from './signature.js';
import { plivoStatusReport } from './status.js';
import {
  checkDestination,
  decodeTransferParam,
  encodeTransferParam,
  speakAndHangUpXml,
  streamXml,
  transferXml,
} from './xml.js';

const XML = 'application/xml';
const MAX_FORM_BYTES = 64 * 1024;
const CALL_ID = /^[A-Za-z0-9-]{1,64}$/;

/** The request's form parameters (POST body when form-encoded); the query is not included. */
export function formParams(req: CarrierHttpRequest): URLSearchParams {
  if (req.method.toUpperCase() !== 'POST' || req.rawBody.length === 0) return new URLSearchParams();
  const type = req.headers['content-type'] ?? '';
  if (type && !type.toLowerCase().includes('application/x-www-form-urlencoded')) return new URLSearchParams();
  if (req.rawBody.length > MAX_FORM_BYTES) throw new Error(`form body over ${MAX_FORM_BYTES} bytes`);
  return new URLSearchParams(req.rawBody.toString('utf8'));
}

/** Query and form parameters together (Plivo sends GET callbacks' fields in the query). */
export function requestParams(req: CarrierHttpRequest): URLSearchParams {
  const params = new URLSearchParams(new URL(req.url).search);
  for (const [key, value] of formParams(req)) params.append(key, value);
  return params;
}

function verifyRequest(
  req: CarrierHttpRequest,
  account: CarrierAccount,
  urls: readonly string[],
): Verification {
  let post: URLSearchParams;
  try {
    post = formParams(req);
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  let last: Verification = { ok: false, reason: 'no URL to check' };
  for (const url of urls) {
    last = verifyPlivoV3({
      authToken: account.credentials.authToken ?? '',
      method: req.method.toUpperCase() === 'POST' ? 'POST' : 'GET',
      url,
      signatureHeader: req.headers['x-plivo-signature-v3'],
      nonceHeader: req.headers['x-plivo-signature-v3-nonce'],
      postParams: post,
    });
    if (last.ok) return last;
  }
  return last;
}

/** Plivo's numbers go without the `+` (country code first); SIP URIs as they are. */
function plivoAddress(address: string, field: string): string {
  if (/^\+?[1-9][0-9]{6,14}$/.test(address)) return address.replace(/^\+/, '');
  if (/^sips?:[^\s<>"]{3,256}$/i.test(address)) return address;
  throw new PlivoApiError(`${field} must be an E.164 number or a sip: URI`, undefined);
}

function checkCallId(carrierCallId: string): string | undefined {
  return CALL_ID.test(carrierCallId) ? undefined : `not a Plivo call id: ${carrierCallId.slice(0, 40)}`;
}

async function control(run: () => Promise<ControlResult>): Promise<ControlResult> {
  try {
    return await run();
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Both ids a Plivo webhook may carry. An outbound call is known by its `request_uuid` (all that
 * `POST Call/` returns) until Plivo fetches the answer URL; live-call control (hang-up, transfer,
 * DTMF) needs the `CallUUID`, so the shared routes should store it from that request (or from
 * the media `start`: `PlivoMediaStream.carrierCallId`).
 */
export function plivoCallIds(req: CarrierHttpRequest): { callUuid?: string; requestUuid?: string } {
  let params: URLSearchParams;
  try {
    params = requestParams(req);
  } catch {
    return {};
  }
  const callUuid = params.get('CallUUID') ?? undefined;
  const requestUuid = params.get('RequestUUID') ?? undefined;
  return {
    ...(callUuid && CALL_ID.test(callUuid) ? { callUuid } : {}),
    ...(requestUuid && CALL_ID.test(requestUuid) ? { requestUuid } : {}),
  };
}

/** `aleg_url` of a transfer: the call's answer URL with the destination in `transfer`. */
export function transferUrl(answerUrl: string, to: TransferDestination): string {
  return `${answerUrl}${answerUrl.includes('?') ? '&' : '?'}transfer=${encodeTransferParam(to)}`;
}

/**
 * What the shared route answers on a call's answer URL when Plivo fetches a transfer's `aleg_url`
 * (the request carries `transfer=`): the `<Dial>`; undefined for any other answer-URL request.
 */
export function plivoTransferReply(req: CarrierHttpRequest): CarrierReply | undefined {
  const value = new URL(req.url).searchParams.get('transfer');
  if (value === null) return undefined;
  const to = decodeTransferParam(value);
  if (!to) return { status: 400, contentType: 'text/plain', body: 'malformed transfer destination' };
  return { status: 200, contentType: XML, body: transferXml(to) };
}

export const plivoCarrier: PhoneCarrier & {
  transfer(
    carrierCallId: string,
    to: TransferDestination,
    account: CarrierAccount,
    signal: AbortSignal,
    urls?: Pick<CallUrls, 'answerUrl'>,
  ): Promise<ControlResult>;
} = {
  name: 'plivo',
  displayName: 'Plivo',
  credentialFields: [
    { name: 'authId', secret: false, description: 'Auth ID (Plivo console, Overview)' },
    { name: 'authToken', secret: true, description: 'Auth Token (Plivo console, Overview); signs webhooks' },
  ],
  defaultApiBaseUrl: PLIVO_API_BASE,
  capabilities: { transfer: true, dtmf: true },

  setup({ inboundUrl, statusUrl }) {
    return [
      {
        field: 'Voice > Applications > XML > Answer URL',
        url: inboundUrl,
        method: 'POST',
        note: 'Create an XML application for this number with this answer URL.',
      },
      {
        field: 'Voice > Applications > XML > Hangup URL',
        url: statusUrl,
        method: 'POST',
        note: 'Required: without it Plivo requests the answer URL again when the call hangs up.',
      },
      {
        field: 'Phone Numbers > Your number > Application',
        note: 'Assign the XML application above to this number.',
      },
    ];
  },

  verifyWebhook(req, account) {
    return verifyRequest(req, account, [req.url]);
  },

  verifyMediaUpgrade(req, account) {
    // Plivo's stream SDK checks V3 on the upgrade (GET over the URL, with an http(s) scheme). When
    // Plivo sends the headers they must match (over the wss:// URL or its https:// twin); when it
    // does not, the one-time token in the path is what authenticates the stream.
    if (!req.headers['x-plivo-signature-v3'] && !req.headers['x-plivo-signature-v3-nonce'])
      return { ok: true };
    const https = req.url.replace(/^wss:/i, 'https:').replace(/^ws:/i, 'http:');
    return verifyRequest(
      { ...req, method: 'GET' },
      account,
      https === req.url ? [req.url] : [req.url, https],
    );
  },

  parseInbound(req): InboundOffer | undefined {
    let params: URLSearchParams;
    try {
      params = requestParams(req);
    } catch {
      return undefined;
    }
    if (params.has('transfer')) return undefined;
    const carrierCallId = params.get('CallUUID');
    const direction = (params.get('Direction') ?? 'inbound').toLowerCase();
    if (!carrierCallId || direction !== 'inbound') return undefined;
    const event = params.get('Event');
    if (event && event !== 'StartApp') return undefined;
    if ((params.get('CallStatus') ?? 'ringing') !== 'ringing' && params.get('CallStatus') !== 'in-progress')
      return undefined;
    const e164 = (n: string) => (/^[1-9][0-9]{6,14}$/.test(n) ? `+${n}` : n);
    return {
      carrierCallId,
      from: e164(params.get('From') ?? ''),
      to: e164(params.get('To') ?? ''),
    };
  },

  async answer({ urls }) {
    return { status: 200, contentType: XML, body: streamXml(urls.mediaUrl, urls.statusUrl) };
  },

  async refuse(_offer, how) {
    if (how.forwardTo && checkDestination(how.forwardTo) === undefined)
      return { status: 200, contentType: XML, body: transferXml(how.forwardTo) };
    return { status: 200, contentType: XML, body: speakAndHangUpXml(how.say) };
  },

  answerOutbound({ urls, req }) {
    // A transfer's `aleg_url` is the answer URL with `?transfer=`: Plivo fetches the <Dial> there.
    const transfer = req ? plivoTransferReply(req) : undefined;
    return transfer ?? { status: 200, contentType: XML, body: streamXml(urls.mediaUrl, urls.statusUrl) };
  },

  parseStatus(req) {
    let params: URLSearchParams;
    try {
      params = requestParams(req);
    } catch {
      return undefined;
    }
    return plivoStatusReport(params);
  },

  async placeCall(request, account, signal) {
    const ring = Math.round(request.ringTimeoutSeconds);
    const limit = Math.round(request.timeLimitSeconds);
    if (!(ring >= 1 && ring <= 120)) throw new PlivoApiError('ringTimeoutSeconds must be 1–120', undefined);
    if (!(limit >= 1 && limit <= 86_400))
      throw new PlivoApiError('timeLimitSeconds must be 1–86400', undefined);
    const { urls } = request;
    const response = await plivoRequest(
      account,
      'POST',
      'Call/',
      {
        from: plivoAddress(request.from, 'from'),
        to: plivoAddress(request.to, 'to'),
        answer_url: urls.answerUrl,
        answer_method: 'POST',
        // Always: without it Plivo requests the answer URL again at hang-up (a second stream).
        hangup_url: urls.statusUrl,
        hangup_method: 'POST',
        ring_url: urls.statusUrl,
        ring_method: 'POST',
        ring_timeout: ring,
        time_limit: limit,
        ...(request.machineDetection
          ? {
              machine_detection: 'true',
              machine_detection_url: urls.statusUrl,
              machine_detection_method: 'POST',
            }
          : {}),
      },
      signal,
    );
    if (!isSuccess(response)) throw new PlivoApiError(plivoErrorText(response), response.status);
    const body = response.body as { request_uuid?: unknown } | undefined;
    const uuid = Array.isArray(body?.request_uuid) ? body?.request_uuid[0] : body?.request_uuid;
    if (typeof uuid !== 'string' || !CALL_ID.test(uuid))
      throw new PlivoApiError('Plivo answered without a request_uuid', response.status);
    return { carrierCallId: uuid };
  },

  hangUp(carrierCallId, account, signal) {
    return control(async () => {
      const bad = checkCallId(carrierCallId);
      if (bad) return { ok: false, error: bad };
      const live = await plivoRequest(account, 'DELETE', `Call/${carrierCallId}/`, undefined, signal);
      if (isSuccess(live)) return { ok: true };
      if (live.status !== 404) return { ok: false, error: plivoErrorText(live) };
      // Not a live call: an outbound call still ringing is cancelled by its request_uuid; a
      // call that is already over answers 404 there too, and that is success.
      const queued = await plivoRequest(account, 'DELETE', `Request/${carrierCallId}/`, undefined, signal);
      if (isSuccess(queued) || queued.status === 404) return { ok: true };
      return { ok: false, error: plivoErrorText(queued) };
    });
  },

  transfer(carrierCallId, to, account, signal, urls?: Pick<CallUrls, 'answerUrl'>) {
    return control(async () => {
      const bad = checkCallId(carrierCallId) ?? checkDestination(to);
      if (bad) return { ok: false, error: bad };
      if (!urls?.answerUrl)
        return { ok: false, error: 'Plivo transfer needs the call answer URL (aleg_url serves the <Dial>)' };
      const response = await plivoRequest(
        account,
        'POST',
        `Call/${carrierCallId}/`,
        { legs: 'aleg', aleg_url: transferUrl(urls.answerUrl, to), aleg_method: 'POST' },
        signal,
      );
      if (isSuccess(response)) return { ok: true };
      return { ok: false, error: plivoErrorText(response) };
    });
  },

  sendDtmf(carrierCallId, digits, account, signal) {
    return control(async () => {
      const bad = checkCallId(carrierCallId);
      if (bad) return { ok: false, error: bad };
      if (!/^[0-9*#A-Dw]{1,64}$/.test(digits))
        return { ok: false, error: `invalid DTMF digits ${JSON.stringify(digits.slice(0, 20))}` };
      const response = await plivoRequest(
        account,
        'POST',
        `Call/${carrierCallId}/DTMF/`,
        { digits, leg: 'aleg' },
        signal,
      );
      if (isSuccess(response)) return { ok: true };
      return { ok: false, error: plivoErrorText(response) };
    });
  },

  createMedia(socket: WebSocket, context: MediaContext) {
    return new PlivoMediaStream(socket, context);
  },
};
