/**
 * Twilio's voice webhooks, form-encoded (Twilio "TwiML Voice webhooks", "Call resource: status
 * callbacks", "Answering Machine Detection"): the number's voice URL announces an inbound call
 * (`CallSid, From, To, Direction=inbound, CallStatus=ringing`); status callbacks carry
 * `CallStatus` (`queued, initiated, ringing, in-progress, completed, busy, no-answer, failed,
 * canceled`), `CallDuration`, `SipResponseCode`, and `AnsweredBy` with AMD; the async AMD
 * callback carries `AnsweredBy` alone; `<Stream statusCallback>` posts `StreamEvent` (no call
 * status). The status mapping is telephony.md §5.
 */
import type { CarrierCallStatus, CarrierHttpRequest, InboundOffer, StatusReport } from '../carrier.js';
import { CALL_SID_PATTERN, webhookParams } from './wire.js';

/** Twilio `CallStatus` → Parley's phone lifecycle (telephony.md §5). */
export const TWILIO_STATUS_MAP: Readonly<Record<string, CarrierCallStatus>> = {
  queued: 'ringing',
  initiated: 'ringing',
  ringing: 'ringing',
  'in-progress': 'in-progress',
  answered: 'in-progress',
  completed: 'completed',
  busy: 'busy',
  'no-answer': 'no-answer',
  failed: 'failed',
  canceled: 'canceled',
};

/** Twilio `AnsweredBy` → who picked up. */
export function answeredBy(value: string | null): StatusReport['answeredBy'] {
  if (value === null || value === '') return undefined;
  if (value === 'human') return 'human';
  if (value.startsWith('machine_') || value === 'fax') return 'machine';
  return 'unknown';
}

const MAX_FIELD = 256;

function field(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  if (value === null || value === '') return undefined;
  if (value.length > MAX_FIELD)
    throw new Error(`Twilio webhook: ${name} longer than ${MAX_FIELD} characters`);
  return value;
}

/** The inbound-call announcement, or `undefined` for any other webhook. Throws on a malformed one. */
export function parseTwilioInbound(req: CarrierHttpRequest): InboundOffer | undefined {
  const params = webhookParams(req.method, req.url, req.rawBody);
  const callSid = field(params, 'CallSid');
  const direction = field(params, 'Direction');
  const status = field(params, 'CallStatus');
  if (!callSid || direction !== 'inbound') return undefined;
  if (status !== undefined && status !== 'ringing') return undefined;
  if (!CALL_SID_PATTERN.test(callSid)) throw new Error('Twilio webhook: CallSid is not a call SID (CA…)');
  const to = field(params, 'To');
  if (!to) throw new Error('Twilio webhook: To is missing');
  // Anonymous callers come as "anonymous", "+266696687" or a client:/sip: address: kept as given.
  const from = field(params, 'From') ?? 'anonymous';
  return { carrierCallId: callSid, from, to };
}

/** A status callback (or AMD callback), or `undefined` when the webhook carries no call status. */
export function parseTwilioStatus(req: CarrierHttpRequest): StatusReport | undefined {
  const params = webhookParams(req.method, req.url, req.rawBody);
  const callSid = field(params, 'CallSid');
  if (!callSid) return undefined;
  if (!CALL_SID_PATTERN.test(callSid)) throw new Error('Twilio webhook: CallSid is not a call SID (CA…)');
  const callStatus = field(params, 'CallStatus');
  const amd = field(params, 'AnsweredBy');
  const who = answeredBy(amd ?? null);
  if (!callStatus) {
    // The async AMD callback: only answered calls are classified.
    if (!amd) return undefined;
    return {
      carrierCallId: callSid,
      status: 'in-progress',
      detail: `answered-by-${amd}`,
      ...(who ? { answeredBy: who } : {}),
    };
  }
  const status = TWILIO_STATUS_MAP[callStatus];
  if (!status)
    throw new Error(`Twilio webhook: unknown CallStatus ${JSON.stringify(callStatus.slice(0, 32))}`);
  const sip = field(params, 'SipResponseCode');
  const sipCode = sip && /^[1-6][0-9]{2}$/.test(sip) ? Number(sip) : undefined;
  return {
    carrierCallId: callSid,
    status,
    detail: callStatus,
    ...(sipCode !== undefined ? { sipCode } : {}),
    ...(who ? { answeredBy: who } : {}),
  };
}
