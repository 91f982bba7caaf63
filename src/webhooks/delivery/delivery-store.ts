/** SQL for the delivery tables: batched writes for the hot path, claims for recovery. */
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { rehydrateSettled } from '../events/event-storage.js';
import { type AttemptRecord, type DeliveryJob, type DeliveryUpdate, laneKeyOf } from './delivery-job.js';
import type { DeliveryTarget } from './routing.js';
import { serializeEvent } from './wire-format.js';

export interface DeliveryRowInput {
  id: string;
  teamId: string;
  eventId: string;
  callId: string | null;
  sequence: number;
  eventType: string;
  mode: 'notification' | 'sync';
  target: DeliveryTarget;
  status: 'pending' | 'delivered' | 'failed';
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  replayOf?: string | null;
}

export async function insertDeliveries(db: Db, rows: readonly DeliveryRowInput[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('webhook_deliveries')
    .values(
      rows.map((r) => ({
        id: r.id,
        team_id: r.teamId,
        event_id: r.eventId,
        call_id: r.callId,
        sequence: r.sequence,
        event_type: r.eventType,
        mode: r.mode,
        endpoint_url: r.target.url,
        target: JSON.stringify(r.target),
        status: r.status,
        next_attempt_at: new Date(r.nextAttemptAt),
        lease_owner: r.leaseOwner,
        lease_until: r.leaseUntil === null ? null : new Date(r.leaseUntil),
        replay_of: r.replayOf ?? null,
      })),
    )
    .execute();
}

/** One statement per table, however many attempts finished since the last flush. */
export async function writeAttemptResults(
  db: Db,
  attempts: readonly AttemptRecord[],
  updates: readonly DeliveryUpdate[],
): Promise<void> {
  if (attempts.length === 0 && updates.length === 0) return;
  await db.transaction().execute(async (tx) => {
    // Losing these rows in a crash only means an event is sent again (at-least-once allows it),
    // so this transaction does not wait for its WAL flush and leaves the disk to the outbox.
    await sql`set local synchronous_commit to off`.execute(tx);
    if (attempts.length > 0) {
      await tx
        .insertInto('webhook_attempts')
        .values(
          attempts.map((a) => ({
            id: a.id,
            delivery_id: a.deliveryId,
            attempted_at: new Date(a.attemptedAt),
            url: a.url,
            status_code: a.statusCode,
            latency_ms: a.latencyMs,
            error: a.error,
            response_snippet: a.responseSnippet,
          })),
        )
        .execute();
    }
    if (updates.length > 0) {
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      const values = sql.join(
        updates.map(
          (u) =>
            sql`(${u.id}, ${u.status}, ${u.attemptCount}::int, ${iso(u.nextAttemptAt)}::timestamptz, ${iso(u.firstAttemptAt)}::timestamptz, ${u.lastStatusCode}::int, ${u.lastError}::text, ${iso(u.leaseUntil)}::timestamptz, ${iso(u.completedAt)}::timestamptz)`,
        ),
      );
      await sql`
        update webhook_deliveries d set
          status = v.status,
          attempt_count = v.attempt_count,
          next_attempt_at = v.next_attempt_at,
          first_attempt_at = coalesce(d.first_attempt_at, v.first_attempt_at),
          last_status_code = v.last_status_code,
          last_error = v.last_error,
          lease_until = v.lease_until,
          lease_owner = case when v.lease_until is null then null else d.lease_owner end,
          completed_at = v.completed_at,
          updated_at = now()
        from (values ${values}) as v(id, status, attempt_count, next_attempt_at, first_attempt_at, last_status_code, last_error, lease_until, completed_at)
        where d.id = v.id`.execute(tx);
    }
  });
}

/**
 * Claims due deliveries whose lease has expired (crashed owner, long retry released to the
 * sweeper, another instance's work abandoned). `for update skip locked` lets several instances
 * sweep the same table without handing one delivery to two of them.
 */
export async function claimDueDeliveries(
  db: Db,
  owner: string,
  leaseMs: number,
  limit: number,
  orderingHoldMs: number,
): Promise<DeliveryJob[]> {
  const result = await sql<{
    id: string;
    team_id: string;
    event_id: string;
    call_id: string | null;
    sequence: number;
    event_type: string;
    target: DeliveryTarget;
    attempt_count: number;
    first_attempt_at: Date | null;
    created_at: Date;
    next_attempt_at: Date;
    event_call_id: string | null;
    payload: unknown;
    message_refs: unknown;
  }>`
    with due as (
      select id from webhook_deliveries
      where status = 'pending' and mode = 'notification' and next_attempt_at <= now()
        and (lease_until is null or lease_until < now())
        -- Per-call order: not past an earlier event of the same call and endpoint that another
        -- process holds or that is not due yet, while that one is within its hold. (Earlier
        -- events claimable now are claimed in this same statement and sent first.)
        and not exists (
          select 1 from webhook_deliveries p
          where p.call_id = webhook_deliveries.call_id and p.endpoint_url = webhook_deliveries.endpoint_url
            and p.status = 'pending' and p.mode = 'notification' and p.sequence < webhook_deliveries.sequence
            and (p.lease_until >= now() or p.next_attempt_at > now())
            and coalesce(p.first_attempt_at, p.created_at) > now() - (${orderingHoldMs} * interval '1 millisecond')
        )
      order by next_attempt_at
      limit ${limit}
      for update skip locked
    )
    update webhook_deliveries d
      set lease_owner = ${owner}, lease_until = now() + (${leaseMs} * interval '1 millisecond')
      from due, call_events e
      where d.id = due.id and e.id = d.event_id
      returning d.id, d.team_id, d.event_id, d.call_id, d.sequence, d.event_type, d.target, d.attempt_count,
        d.first_attempt_at, d.created_at, d.next_attempt_at,
        e.call_id as event_call_id, e.payload, e.message_refs`.execute(db);
  // Stored events hold their conversation as refs: rebuilt here, the body is what was first sent.
  const { events, unreadable } = await rehydrateSettled(
    db,
    result.rows.map((r) => ({ call_id: r.event_call_id, payload: r.payload, message_refs: r.message_refs })),
  );
  // An event storage cannot give back (rows missing) fails its delivery, saying why, instead of
  // being claimed again and again with the deliveries claimed beside it.
  for (const [i, error] of unreadable) {
    await sql`update webhook_deliveries set status = 'failed', lease_owner = null, lease_until = null,
        last_error = ${`the stored event could not be read: ${error.message}`}, completed_at = now(), updated_at = now()
      where id = ${result.rows[i]?.id}`.execute(db);
  }
  return result.rows.flatMap((r, i) => {
    const event = events[i];
    if (!event) return [];
    return [
      {
        id: r.id,
        teamId: r.team_id,
        eventId: r.event_id,
        eventType: r.event_type,
        callId: r.call_id,
        sequence: r.sequence,
        laneKey: laneKeyOf(r.call_id, r.target.url, r.id),
        body: serializeEvent(event, r.target.format),
        target: r.target,
        attemptCount: r.attempt_count,
        firstAttemptAt: r.first_attempt_at ? r.first_attempt_at.getTime() : null,
        createdAt: r.created_at.getTime(),
        nextAttemptAt: r.next_attempt_at.getTime(),
      },
    ];
  });
}

/** Keeps this process's leases alive while it holds deliveries in memory. */
export async function renewLeases(db: Db, owner: string, leaseMs: number): Promise<void> {
  await sql`update webhook_deliveries set lease_until = now() + (${leaseMs} * interval '1 millisecond')
    where lease_owner = ${owner} and status = 'pending' and lease_until is not null`.execute(db);
}

/**
 * Lets go of every pending delivery this process holds (shutdown): the other servers' sweepers
 * claim them at once instead of after the lease expires. Returns how many.
 */
export async function releaseLeases(db: Db, owner: string): Promise<number> {
  const released = await db
    .updateTable('webhook_deliveries')
    .set({ lease_owner: null, lease_until: null })
    .where('lease_owner', '=', owner)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(released.numUpdatedRows);
}
