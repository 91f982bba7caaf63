import type { Db } from '../db/database.js';
import { loadCallEvents } from '../webhooks/events/event-storage.js';
import { type LiveEvent, liveEventOf } from '../webhooks/events/live-event.js';

/** Event ids as the outbox makes them (`newEventId`). */
const EVENT_ID = /^evt_[0-9a-f]{32}$/;

/**
 * The sequence of the event a reconnecting client names in `Last-Event-ID`, when it is an event
 * of this team and call. Only a call's events have an order to resume in (its `sequence`); a
 * team-wide stream has none across calls, so it does not replay. An id that is malformed,
 * unknown, or not of this team and call resumes nothing (undefined).
 */
export async function resumeSequence(
  db: Db,
  teamId: string,
  callId: string,
  lastEventId: string,
): Promise<number | undefined> {
  if (!EVENT_ID.test(lastEventId)) return undefined;
  const last = await db
    .selectFrom('call_events')
    .select('sequence')
    .where('id', '=', lastEventId)
    .where('team_id', '=', teamId)
    .where('call_id', '=', callId)
    .executeTakeFirst();
  return last?.sequence;
}

/** Up to `limit` of one call's events recorded after `afterSequence`, in order, as sent. */
export async function eventsAfter(
  db: Db,
  teamId: string,
  callId: string,
  afterSequence: number,
  limit: number,
): Promise<LiveEvent[]> {
  const page = await loadCallEvents(db, teamId, callId, { afterSequence, limit });
  return page.map((row) => liveEventOf(row.event));
}
