/**
 * The call lifecycle of CONTRACT.md as a small state machine over the Call object:
 * queued (→ ringing) → ongoing → finished | forwarded, or queued → finished (never connected).
 * `transition` is pure: it returns the next Call or throws on a transition the contract forbids.
 */
import type { Call, CallEndTrigger, PhoneCallStatus } from '../contract/call-schema.js';

export type LifecycleEvent =
  /** A phone call not yet answered rings at the far end (status stays `queued`). */
  | { type: 'ring'; reason?: string }
  | { type: 'connect' }
  | {
      type: 'end';
      trigger: Exclude<CallEndTrigger, ''>;
      reason: string;
      /** Ended by an error: `phoneCallStatus` becomes `ended-with-error`. */
      error?: boolean;
    }
  | { type: 'forward'; to: string; trigger?: Exclude<CallEndTrigger, ''> }
  | {
      type: 'not-connected';
      phoneCallStatus: Extract<PhoneCallStatus, 'no-answer' | 'busy' | 'failed' | 'canceled'>;
      reason: string;
      trigger?: Exclude<CallEndTrigger, ''>;
    };

export class LifecycleError extends Error {}

export function isTerminal(call: Call): boolean {
  return call.status === 'finished' || call.status === 'forwarded';
}

export function newWebCall(init: {
  id: string;
  teamId: string;
  assistantId: string;
  userNumber: string;
  now: number;
  assistantOverrides?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}): Call {
  return {
    id: init.id,
    teamId: init.teamId,
    assistantId: init.assistantId,
    callType: 'web',
    direction: 'inbound',
    startAt: new Date(init.now).toISOString(),
    userNumber: init.userNumber,
    assistantNumber: '',
    status: 'queued',
    phoneCallStatus: 'queued',
    phoneCallStatusReason: 'Call is queued',
    callEndTriggerBy: '',
    assistantCallDuration: 0,
    analysis: {},
    recording: {},
    assistantOverrides: init.assistantOverrides ?? {},
    metadata: init.metadata ?? {},
  };
}

/**
 * Applies one lifecycle event. `connectedAt` is when the call went ongoing (epoch ms), used for
 * `assistantCallDuration`; `now` is the moment of the event.
 */
export function transition(call: Call, event: LifecycleEvent, now: number, connectedAt?: number): Call {
  const ended = (patch: Partial<Call>): Call => ({
    ...call,
    ...patch,
    endAt: new Date(now).toISOString(),
    assistantCallDuration: connectedAt === undefined ? 0 : Math.max(0, Math.round(now - connectedAt)),
  });
  switch (event.type) {
    case 'ring':
      if (call.status !== 'queued') throw new LifecycleError(`cannot ring a call that is ${call.status}`);
      return {
        ...call,
        phoneCallStatus: 'ringing',
        phoneCallStatusReason: event.reason ?? 'Call is ringing',
      };
    case 'connect':
      if (call.status !== 'queued') throw new LifecycleError(`cannot connect a call that is ${call.status}`);
      return {
        ...call,
        status: 'ongoing',
        phoneCallStatus: 'in-progress',
        phoneCallStatusReason: 'Call is in progress',
      };
    case 'end':
      if (call.status !== 'ongoing') throw new LifecycleError(`cannot end a call that is ${call.status}`);
      return ended({
        status: 'finished',
        phoneCallStatus: event.error ? 'ended-with-error' : 'completed',
        phoneCallStatusReason: event.reason,
        callEndTriggerBy: event.trigger,
      });
    case 'forward':
      if (call.status !== 'ongoing') throw new LifecycleError(`cannot forward a call that is ${call.status}`);
      return ended({
        status: 'forwarded',
        phoneCallStatus: 'forwarded',
        phoneCallStatusReason: `Forwarded to ${event.to}`,
        callEndTriggerBy: event.trigger ?? 'bot',
        forwardedTo: event.to,
      });
    case 'not-connected':
      if (call.status !== 'queued') throw new LifecycleError(`call is ${call.status}, not queued`);
      return ended({
        status: 'finished',
        phoneCallStatus: event.phoneCallStatus,
        phoneCallStatusReason: event.reason,
        callEndTriggerBy: event.trigger ?? 'system',
      });
  }
}
