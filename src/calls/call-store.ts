import { type Selectable, sql } from 'kysely';
import type { Call, CallStatus } from '../contract/call-schema.js';
import type { Db } from '../db/database.js';
import type { CallsTable } from '../db/schema.js';
import { afterCursor, type Cursor } from '../shared/pagination.js';

/** Calls are stored as the complete Call object plus the columns the list filters on. */
export type CallRow = Selectable<CallsTable>;

export function toCall(row: CallRow): Call {
  return row.record as unknown as Call;
}

export async function insertCall(db: Db, call: Call): Promise<CallRow> {
  return db
    .insertInto('calls')
    .values({
      id: call.id,
      team_id: call.teamId,
      assistant_id: call.assistantId || null,
      status: call.status,
      created_at: call.startAt,
      record: JSON.stringify(call),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function saveCall(db: Db, call: Call): Promise<void> {
  await db
    .updateTable('calls')
    .set({
      status: call.status,
      assistant_id: call.assistantId || null,
      record: JSON.stringify(call),
      updated_at: new Date(),
    })
    .where('team_id', '=', call.teamId)
    .where('id', '=', call.id)
    .execute();
}

/**
 * Marks a live call as asked to end (its server ends it at its next heartbeat); undefined when
 * the call is not live (any more).
 */
export async function requestCallEnd(
  db: Db,
  teamId: string,
  id: string,
): Promise<{ call: Call; endRequestedAt: string } | undefined> {
  const row = await db
    .updateTable('calls')
    .set({ end_requested_at: sql`coalesce(end_requested_at, now())` })
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'ongoing'])
    .returning(['record', 'end_requested_at'])
    .executeTakeFirst();
  if (!row?.end_requested_at) return undefined;
  return { call: row.record as unknown as Call, endRequestedAt: row.end_requested_at.toISOString() };
}

export async function findCall(db: Db, teamId: string, id: string): Promise<CallRow | undefined> {
  return db
    .selectFrom('calls')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export interface CallFilter {
  status?: CallStatus | undefined;
  assistantId?: string | undefined;
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
}

export async function listCalls(db: Db, teamId: string, filter: CallFilter, limit: number, cursor?: Cursor) {
  let query = db.selectFrom('calls').selectAll().where('team_id', '=', teamId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.assistantId) query = query.where('assistant_id', '=', filter.assistantId);
  if (filter.createdAfter) query = query.where('created_at', '>=', filter.createdAfter);
  if (filter.createdBefore) query = query.where('created_at', '<', filter.createdBefore);
  if (cursor) {
    query = query.where(afterCursor(cursor));
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}
