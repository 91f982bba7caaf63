/**
 * A carrier's status callbacks applied to a call's lifecycle (`PhoneStatusPort`), on whichever
 * server they land: `ringing` on a call still waiting for its media; `busy`, `no-answer`,
 * `failed`, `canceled` on a call never connected end it with that `phoneCallStatus`;
 * `completed` ends a live call as a hang-up by the customer. A call that ended already (the
 * stream's `stop`, an earlier callback) is left alone: one terminal status, whatever races.
 * `queued` and `in-progress` change nothing (the media connecting makes a call `in-progress`).
 * An answering machine (`answeredBy: machine`, the carrier's AMD) ends the call as voicemail
 * where its session runs: the assistant leaves its `voicemailMessage` or hangs up at once.
 */
import type { Call } from '../contract/call-schema.js';
import type { Db } from '../db/database.js';
import { isTerminal } from '../engine/call-lifecycle.js';
import type { CallSession } from '../engine/call-session.js';
import { VOICEMAIL_REASON } from '../engine/voicemail.js';
import type { PhoneStatusPort } from '../transports/ports.js';
import type { EndRequest } from './call-store.js';

type StatusReport = Parameters<PhoneStatusPort['report']>[1];

/** What the status port needs from the live calls (`CallService`). */
export interface PhoneStatusHost {
  session(callId: string): CallSession | undefined;
  end(teamId: string, callId: string, reason: string, how?: Omit<EndRequest, 'reason'>): Promise<unknown>;
}

export class PhoneStatus implements PhoneStatusPort {
  constructor(
    private readonly db: Db,
    private readonly host: PhoneStatusHost,
    private readonly log?: { warn(obj: object, msg: string): void },
  ) {}

  async report(callId: string, status: StatusReport): Promise<void> {
    const session = this.host.session(callId);
    const call = session?.call ?? (await this.storedCall(callId));
    if (!call || isTerminal(call)) return;
    if (status.answeredBy === 'machine' && status.status === 'in-progress') {
      if (session) session.voicemail();
      // The session runs on another server (or none yet): ended there as a plain hang-up.
      else
        await this.host
          .end(call.teamId, callId, VOICEMAIL_REASON, { trigger: 'bot' })
          .catch((error: unknown) => {
            this.log?.warn({ err: error, callId }, 'voicemail could not end the call');
          });
      return;
    }
    const end = endRequestFor(call, status);
    if (!end) {
      // Where the session runs (the server that placed the call); elsewhere a ringing is not news.
      if (status.status === 'ringing' && session && call.status === 'queued') session.ringing();
      return;
    }
    if (session) {
      await session.end({
        trigger: end.trigger ?? 'system',
        reason: end.reason,
        ...(end.notConnected ? { notConnected: end.notConnected } : {}),
      });
      return;
    }
    const { reason, ...how } = end;
    await this.host.end(call.teamId, callId, reason, how).catch((error: unknown) => {
      this.log?.warn(
        { err: error, callId, status: status.status },
        'a carrier status could not end the call',
      );
    });
  }

  private async storedCall(callId: string): Promise<Call | undefined> {
    const row = await this.db
      .selectFrom('calls')
      .select('record')
      .where('id', '=', callId)
      .executeTakeFirst();
    return row?.record as unknown as Call | undefined;
  }
}

/** How a carrier status ends the call; undefined when it does not end it. */
export function endRequestFor(call: Call, report: StatusReport): EndRequest | undefined {
  const detail = report.detail ? ` (${report.detail})` : '';
  switch (report.status) {
    case 'queued':
    case 'ringing':
    case 'in-progress':
      return undefined;
    case 'completed':
      return call.status === 'queued'
        ? { reason: `The call ended before it connected${detail}`, notConnected: 'failed' }
        : { reason: 'Customer hung up', trigger: 'user' };
    case 'busy':
      return { reason: `Customer was busy${detail}`, notConnected: 'busy' };
    case 'no-answer':
      return { reason: `Customer did not answer${detail}`, notConnected: 'no-answer' };
    case 'canceled':
      return { reason: `The call was canceled${detail}`, notConnected: 'canceled' };
    case 'failed':
      return {
        reason: `The call failed${report.sipCode ? ` (SIP ${report.sipCode})` : ''}${detail}`,
        notConnected: 'failed',
      };
  }
}
