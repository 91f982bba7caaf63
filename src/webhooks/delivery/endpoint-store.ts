import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { RETRY_HORIZON_MS } from '../http/backoff.js';

/*
 * SQL of the endpoint state shared by every process on the database: an endpoint that answered
 * `410 Gone` is disabled in `webhook_endpoints` (the source of truth; each process keeps a copy,
 * see `EndpointState`). Its deliveries are held, not failed: pending, unleased, and
 * due at `HELD_UNTIL_ENABLED` (far in the future, so no sweeper claims or scans them). Enabling
 * the endpoint makes them due again (in their original order), except those older than the
 * retry horizon, which fail.
 */

/** `next_attempt_at` of a delivery held while its endpoint is disabled. */
const HELD_UNTIL_ENABLED = new Date('9999-12-31T00:00:00.000Z');

const HELD_ERROR = 'endpoint disabled after a 410 Gone; held until it is re-enabled';

export function endpointKey(teamId: string, url: string): string {
  return `${teamId} ${url}`;
}

export async function loadDisabledEndpoints(db: Db): Promise<Set<string>> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .select(['team_id', 'url'])
    .where('disabled_at', 'is not', null)
    .execute();
  return new Set(rows.map((r) => endpointKey(r.team_id, r.url)));
}

export async function disableEndpoint(db: Db, teamId: string, url: string, reason: string): Promise<void> {
  await db
    .insertInto('webhook_endpoints')
    .values({ team_id: teamId, url, disabled_at: new Date(), disabled_reason: reason })
    .onConflict((oc) =>
      oc
        .columns(['team_id', 'url'])
        .doUpdateSet({ disabled_at: new Date(), disabled_reason: reason, updated_at: new Date() }),
    )
    .execute();
}

/**
 * Enables an endpoint and makes its held deliveries due again (those past the retry horizon
 * fail). Says whether it was disabled, and how many deliveries were resumed.
 */
export async function enableEndpoint(
  db: Db,
  teamId: string,
  url: string,
): Promise<{ wasDisabled: boolean; resumed: number }> {
  return db.transaction().execute(async (tx) => {
    // Taking the endpoint's row first orders this after (or before) any `holdDeliveries`.
    const updated = await tx
      .updateTable('webhook_endpoints')
      .set({ disabled_at: null, disabled_reason: null, updated_at: new Date() })
      .where('team_id', '=', teamId)
      .where('url', '=', url)
      .where('disabled_at', 'is not', null)
      .executeTakeFirst();
    const held = sql`team_id = ${teamId} and endpoint_url = ${url} and status = 'pending'
      and next_attempt_at = ${HELD_UNTIL_ENABLED}`;
    await sql`update webhook_deliveries set status = 'failed', completed_at = now(), updated_at = now(),
        last_error = ${`gave up after 72 h: ${HELD_ERROR}`}
      where ${held} and created_at < now() - (${RETRY_HORIZON_MS} * interval '1 millisecond')`.execute(tx);
    // Due at their creation time: the sweeper claims them oldest first, so in sequence order.
    const resumed = await sql`update webhook_deliveries set next_attempt_at = created_at, updated_at = now()
      where ${held}`.execute(tx);
    return { wasDisabled: updated.numUpdatedRows > 0n, resumed: Number(resumed.numAffectedRows ?? 0) };
  });
}

/**
 * Puts deliveries this process leases back in the table, held while the endpoint is disabled.
 * Reads the endpoint under a share lock, so a concurrent enable either comes first (the
 * deliveries are due at once) or resumes them after.
 */
export async function holdDeliveries(
  db: Db,
  teamId: string,
  url: string,
  owner: string,
  ids: readonly string[],
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const endpoint = await sql<{ disabled: boolean }>`select disabled_at is not null as disabled
      from webhook_endpoints where team_id = ${teamId} and url = ${url} for share`.execute(tx);
    const disabled = endpoint.rows[0]?.disabled === true;
    await sql`update webhook_deliveries set lease_owner = null, lease_until = null, updated_at = now(),
        next_attempt_at = ${disabled ? HELD_UNTIL_ENABLED : new Date()},
        last_error = ${disabled ? HELD_ERROR : null}
      where id = any(${ids}::text[]) and status = 'pending' and lease_owner = ${owner}`.execute(tx);
  });
}
