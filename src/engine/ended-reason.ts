/**
 * The machine-readable end reason of a call (`call.endedReason`, the report's `endedReason`),
 * next to the human-readable `phoneCallStatusReason`. Values follow Vapi's where one exists:
 *
 * | value | when |
 * |---|---|
 * | `customer-ended-call` | the caller hung up or asked to end |
 * | `assistant-ended-call` | the assistant ended the call (endCall tool, end-call phrase) |
 * | `assistant-forwarded-call` | the call was transferred (`forwarded`) |
 * | `customer-busy`, `customer-did-not-answer`, `call-canceled` | never connected |
 * | `<carrier>-failed-to-connect-call` (`web-…` for web calls) | never connected: failed |
 * | `voicemail` | an answering machine took the call |
 * | `exceeded-max-duration` | `maxDurationSeconds` reached |
 * | `silence-timed-out` | the caller did not respond (idle timeout) |
 * | `exceeded-call-limits` | a per-call input limit (turns, conversation size) was reached |
 * | `pipeline-error-<provider>` | a provider failure ended the call (e.g. `pipeline-error-deepgram`) |
 * | `assistant-request-failed` | no assistant could be had; the apology was said |
 * | `client-protocol-error`, `client-connection-lost` | the web client broke the protocol or went silent |
 * | `call-taken-over` | never reported: another server finished the call |
 * | `system-ended-call` | any other end by the platform (e.g. a server restart) |
 */
import type { Call, CallEndTrigger } from '../contract/call-schema.js';

export type NotConnected = 'busy' | 'no-answer' | 'failed' | 'canceled';

/** The reason of an end that did not name one, from how it ended. */
export function defaultEndedReason(
  end: {
    trigger: Exclude<CallEndTrigger, ''>;
    error?: boolean;
    forwarded?: boolean;
    /** The call never connected, and how. */
    notConnected?: NotConnected;
  },
  /** `phone.provider.name` ("" for web calls). */
  provider: string,
): string {
  if (end.notConnected) {
    switch (end.notConnected) {
      case 'busy':
        return 'customer-busy';
      case 'no-answer':
        return 'customer-did-not-answer';
      case 'canceled':
        return 'call-canceled';
      case 'failed':
        return `${provider || 'web'}-failed-to-connect-call`;
    }
  }
  if (end.forwarded) return 'assistant-forwarded-call';
  if (end.trigger === 'user') return 'customer-ended-call';
  if (end.trigger === 'bot') return 'assistant-ended-call';
  return end.error ? 'pipeline-error' : 'system-ended-call';
}

/** A terminal call's end reason: its own, else derived from its status (calls ended before the field). */
export function endedReasonOf(call: Call, provider = ''): string {
  if (call.endedReason) return call.endedReason;
  const status = call.phoneCallStatus;
  const notConnected =
    status === 'busy' || status === 'no-answer' || status === 'failed' || status === 'canceled'
      ? status
      : undefined;
  const by = call.callEndTriggerBy;
  return defaultEndedReason(
    {
      trigger: by === 'user' || by === 'bot' ? by : 'system',
      error: status === 'ended-with-error',
      forwarded: call.status === 'forwarded',
      ...(notConnected ? { notConnected } : {}),
    },
    provider,
  );
}
