/**
 * A team's limit of concurrent calls (`maxConcurrentCalls`, team settings), across every server
 * sharing the database: a new call is stored only while fewer of the team's calls are live
 * (status `queued` or `ongoing`). The count and the insert run in one transaction holding a
 * per-team advisory lock, so two servers admitting at once cannot both take the last slot (the
 * second waits for the first to commit, then counts its call).
 */
import { sql } from 'kysely';
import type { Call } from '../contract/call-schema.js';
import type { Db } from '../db/database.js';
import { ApiError } from '../shared/api-error.js';
import { type CallCarriage, insertCall } from './call-store.js';

/** What an inbound phone call over the team's limit hears before the line is hung up. */
export const BUSY_MESSAGE = 'All our lines are busy right now. Please call again later.';

/** The team already has `limit` live calls. */
export class CallLimitReached extends Error {
  constructor(readonly limit: number) {
    super(`the team's limit of ${limit} concurrent call${limit === 1 ? '' : 's'} is reached`);
  }

  /** The API's answer (`POST /v1/calls`): 429, naming the limit. */
  toApiError(): ApiError {
    return new ApiError(
      429,
      'concurrency_limit',
      `${this.message} (maxConcurrentCalls, set by the operator): retry once one of the team's calls has ended`,
    );
  }
}

/** The calls of a team that are live now, on any server. */
export async function liveCallCount(db: Db, teamId: string): Promise<number> {
  const row = await db
    .selectFrom('calls')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('team_id', '=', teamId)
    .where('status', 'in', ['queued', 'ongoing'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Stores the call if the team has fewer than `limit` live calls; throws `CallLimitReached`
 * (nothing stored) otherwise.
 */
export async function insertWithinLimit(
  db: Db,
  call: Call,
  carriage: CallCarriage,
  limit: number,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    // One lock per team, held until the transaction ends; other teams are not serialised.
    await sql`select pg_advisory_xact_lock(hashtext(${`parley.team-calls:${call.teamId}`}))`.execute(tx);
    if ((await liveCallCount(tx, call.teamId)) >= limit) throw new CallLimitReached(limit);
    await insertCall(tx, call, carriage);
  });
}
