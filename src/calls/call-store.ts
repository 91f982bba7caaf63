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

/** The columns of a call row beside its Call: what carries it (migration 0009). */
export interface CallCarriage {
  /** `web`, a carrier's name or `sip` (default `web`). */
  channel?: string;
  carrierCallId?: string;
  phoneNumberId?: string;
}

export async function insertCall(db: Db, call: Call, carriage: CallCarriage = {}): Promise<CallRow> {
  return db
    .insertInto('calls')
    .values({
      id: call.id,
      team_id: call.teamId,
      assistant_id: call.assistantId || null,
      status: call.status,
      created_at: call.startAt,
      record: JSON.stringify(call),
      channel: carriage.channel ?? 'web',
      carrier_call_id: carriage.carrierCallId ?? null,
      phone_number_id: carriage.phoneNumberId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Records the carrier's id of a call (an outbound call, once the carrier accepted it). */
export async function setCarrierCallId(db: Db, callId: string, carrierCallId: string): Promise<void> {
  await db.updateTable('calls').set({ carrier_call_id: carrierCallId }).where('id', '=', callId).execute();
}

/** The call a carrier's status callback names (`channel`: the carrier). */
export async function findCallByCarrierId(
  db: Db,
  channel: string,
  carrierCallId: string,
): Promise<CallRow | undefined> {
  return db
    .selectFrom('calls')
    .selectAll()
    .where('channel', '=', channel)
    .where('carrier_call_id', '=', carrierCallId)
    .executeTakeFirst();
}

/** `phone.provider.name` of a call's events: "" for web calls, else the carrier (or `sip`). */
export const phoneProviderOf = (channel: string | null | undefined): string =>
  !channel || channel === 'web' ? '' : channel;

/** How the owner should end a call asked to end from another server. */
export interface EndRequest {
  reason: string;
  trigger?: 'user' | 'bot' | 'system';
  /** For a call never connected: its phoneCallStatus (a carrier's busy, no-answer …). */
  notConnected?: 'no-answer' | 'busy' | 'failed' | 'canceled';
}

/** The end request stored for a call (undefined: none, or one stored before migration 0009). */
export async function findEndRequest(db: Db, callId: string): Promise<EndRequest | undefined> {
  const row = await db
    .selectFrom('calls')
    .select(['end_requested_at', 'end_request'])
    .where('id', '=', callId)
    .executeTakeFirst();
  if (!row?.end_requested_at || !row.end_request) return undefined;
  return row.end_request as unknown as EndRequest;
}

/**
 * Marks a live call as asked to end (its server ends it at its next heartbeat); undefined when
 * the call is not live (any more).
 */
export async function requestCallEnd(
  db: Db,
  teamId: string,
  id: string,
  request?: EndRequest,
): Promise<{ call: Call; endRequestedAt: string } | undefined> {
  const row = await db
    .updateTable('calls')
    .set({
      end_requested_at: sql`coalesce(end_requested_at, now())`,
      // The first request wins, as its time does.
      ...(request ? { end_request: sql`coalesce(end_request, ${JSON.stringify(request)}::jsonb)` } : {}),
    })
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
