/**
 * Plivo's call statuses (the `CallStatus` of ring, answer and hangup callbacks; Plivo "Call
 * status" docs) mapped to Parley's `phoneCallStatus` (../shared/telephony.md §5 lifecycle table).
 * Callbacks are form-encoded: `CallUUID`, `RequestUUID` (outbound), `CallStatus`, `Event`
 * (`Ring`, `StartApp`, `Hangup` …), `HangupCause`, `HangupCauseName`, `HangupCauseCode`, and
 * `Machine` (`true`/`false`) after machine detection.
 */
import type { CarrierCallStatus, StatusReport } from '../carrier.js';

export const PLIVO_STATUS_MAP: Readonly<Record<string, CarrierCallStatus>> = {
  queued: 'queued',
  ringing: 'ringing',
  'early-media': 'ringing',
  'in-progress': 'in-progress',
  completed: 'completed',
  busy: 'busy',
  'no-answer': 'no-answer',
  timeout: 'no-answer',
  cancel: 'canceled',
  canceled: 'canceled',
  cancelled: 'canceled',
  failed: 'failed',
};

/** A callback's status, or undefined when it carries none Parley knows. */
export function plivoStatusReport(params: URLSearchParams): StatusReport | undefined {
  const carrierCallId = params.get('CallUUID') ?? params.get('RequestUUID');
  if (!carrierCallId) return undefined;
  const machine = params.get('Machine');
  const answeredBy =
    machine === 'true' ? ('machine' as const) : machine === 'false' ? ('human' as const) : undefined;
  const raw = (params.get('CallStatus') ?? '').toLowerCase();
  let status = PLIVO_STATUS_MAP[raw];
  if (!status && params.get('Event') === 'Ring') status = 'ringing';
  if (!status && answeredBy) status = 'in-progress';
  if (!status) return undefined;
  const cause = params.get('HangupCauseName') ?? params.get('HangupCause');
  const sip = Number(params.get('SipResponseCode') ?? params.get('SIPResponseCode') ?? Number.NaN);
  return {
    carrierCallId,
    status,
    detail: cause ? `${raw || status} (${cause})` : raw || status,
    ...(Number.isInteger(sip) && sip >= 100 && sip < 700 ? { sipCode: sip } : {}),
    ...(answeredBy ? { answeredBy } : {}),
  };
}
