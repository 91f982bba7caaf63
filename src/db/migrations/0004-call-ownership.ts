import { type Kysely, sql } from 'kysely';

const statements = [
  // Which process runs a live call, and when it last said so: a restart (or another instance)
  // finishes calls whose owner stopped beating, with their terminal events.
  `alter table calls add column owner text`,
  `alter table calls add column heartbeat_at timestamptz`,
  // The resolved assistant (with secrets: the terminal events are routed and signed with it).
  `alter table calls add column assistant_snapshot jsonb`,
  `create index calls_live on calls(heartbeat_at) where status in ('queued', 'ongoing')`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index calls_live`.execute(db);
  for (const column of ['owner', 'heartbeat_at', 'assistant_snapshot']) {
    await sql`alter table calls drop column ${sql.id(column)}`.execute(db);
  }
}
