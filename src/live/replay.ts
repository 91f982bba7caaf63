import type { Db } from '../db/database.js';
import type { EventMessage } from '../webhooks/events/event-schemas.js';
import { type LiveEvent, liveEventOf } from './live-events.js';

/** Event ids as the outbox makes them (`newEventId`). */
const EVENT_ID = /^evt_[0-9a-f]{32}$/;

/**
 * The events of one call recorded after `lastEventId` (a reconnecting client's `Last-Event-ID`),
 * in sequence order, read from `call_events`. Only a call's events have an order to resume in
 * (its `sequence`); a team-wide stream has none across calls, so it does not replay. An id that
 * is malformed, unknown, or not of this team and call replays nothing.
 */
export async function eventsAfter(
  db: Db,
  teamId: string,
  callId: string,
  lastEventId: string,
): Promise<LiveEvent[]> {
  if (!EVENT_ID.test(lastEventId)) return [];
  const last = await db
    .selectFrom('call_events')
    .select('sequence')
    .where('id', '=', lastEventId)
    .where('team_id', '=', teamId)
    .where('call_id', '=', callId)
    .executeTakeFirst();
  if (!last) return [];
  const rows = await db
    .selectFrom('call_events')
    .select('payload')
    .where('team_id', '=', teamId)
    .where('call_id', '=', callId)
    .where('sequence', '>', last.sequence)
    .orderBy('sequence')
    .execute();
  return rows.map((row) => {
    const payload: unknown = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
    return liveEventOf(payload as EventMessage);
  });
}
