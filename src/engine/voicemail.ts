/**
 * An answering machine took an outbound call (the carrier's answering-machine detection said
 * so, `voicemailDetection` on the assistant): the assistant leaves `voicemailMessage` and hangs
 * up, or hangs up at once without one; either way the call ends with endedReason `voicemail`.
 * The message is spoken as soon as the machine result arrives (Twilio's `machine_end_beep`,
 * Telnyx's `call.machine.detection.ended`, Vonage's `machine`, Plivo's `Machine=true`); a result
 * that comes before the media is kept and acted on when the call connects, instead of the welcome.
 */
import type { HangUp, ResolvedAssistant } from './call-state.js';

export const VOICEMAIL_REASON = 'An answering machine took the call';

/** How a call that reached voicemail ends, for this assistant. */
export function voicemailHangUp(assistant: Pick<ResolvedAssistant, 'voicemailMessage'>): HangUp {
  const message = assistant.voicemailMessage?.trim();
  return {
    trigger: 'bot',
    reason: message ? `${VOICEMAIL_REASON}: a voicemail was left` : VOICEMAIL_REASON,
    endedReason: 'voicemail',
    ...(message ? { say: message } : {}),
  };
}
