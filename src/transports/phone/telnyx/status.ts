/**
 * Telnyx Call Control webhooks → Parley's phone lifecycle (../shared/telephony.md §5 table):
 * `call.initiated` ringing, `call.answered` in-progress, `call.hangup` by `hangup_cause`
 * (normal_clearing/time_limit completed, user_busy busy, no_answer/timeout no-answer,
 * originator_cancel canceled, call_rejected/not_found and anything else failed), and the
 * answering-machine result (`call.machine[.premium].detection.ended`) as in-progress + answeredBy.
 * Other events (streaming.*, call.bridged, call.speak.*, call.dtmf.received …) carry no status.
 */
import type { CarrierCallStatus, StatusReport } from '../carrier.js';
import type { TelnyxWebhook } from './wire.js';

export const HANGUP_CAUSE_STATUS: Readonly<Record<string, CarrierCallStatus>> = {
  normal_clearing: 'completed',
  time_limit: 'completed',
  user_busy: 'busy',
  no_answer: 'no-answer',
  timeout: 'no-answer',
  originator_cancel: 'canceled',
  call_rejected: 'failed',
  not_found: 'failed',
  unspecified: 'failed',
};

function answeredBy(result: string | undefined): StatusReport['answeredBy'] {
  if (result === 'human' || result === 'human_residence' || result === 'human_business') return 'human';
  if (result === 'machine') return 'machine';
  return 'unknown';
}

export function telnyxStatus(webhook: TelnyxWebhook): StatusReport | undefined {
  const { event_type: event, payload } = webhook.data;
  const carrierCallId = payload.call_control_id;
  switch (event) {
    case 'call.initiated':
      return { carrierCallId, status: 'ringing', detail: event };
    case 'call.answered':
      return { carrierCallId, status: 'in-progress', detail: event };
    case 'call.hangup': {
      const cause = payload.hangup_cause ?? 'unspecified';
      const sip = Number(payload.sip_hangup_cause);
      return {
        carrierCallId,
        status: HANGUP_CAUSE_STATUS[cause] ?? 'failed',
        detail: `call.hangup ${cause}${payload.hangup_source ? ` (${payload.hangup_source})` : ''}`,
        ...(Number.isInteger(sip) && sip >= 100 && sip < 700 ? { sipCode: sip } : {}),
      };
    }
    case 'call.machine.detection.ended':
    case 'call.machine.premium.detection.ended':
      return {
        carrierCallId,
        status: 'in-progress',
        detail: `${event} ${payload.result ?? ''}`.trim(),
        answeredBy: answeredBy(payload.result),
      };
    default:
      return undefined;
  }
}
