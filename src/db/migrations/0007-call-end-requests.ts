import { type Kysely, sql } from 'kysely';

const statements = [
  // `POST /v1/calls/:id/end` on a server that does not run the call: a durable request that the
  // server running it sees on its next heartbeat and acts on (it ends the call).
  `alter table calls add column end_requested_at timestamptz`,
  // When the call's end-of-call-report was stored. A call that ended without one (its server
  // died between the terminal status-update and the report) is reported by crash recovery.
  `alter table calls add column reported_at timestamptz`,
  `update calls set reported_at = updated_at where status not in ('queued', 'ongoing')`,
  `create index calls_unreported on calls(heartbeat_at)
    where reported_at is null and status not in ('queued', 'ongoing')`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index calls_unreported`.execute(db);
  await sql`alter table calls drop column reported_at`.execute(db);
  await sql`alter table calls drop column end_requested_at`.execute(db);
}
