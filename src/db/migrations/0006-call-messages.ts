import { type Kysely, sql } from 'kysely';

/**
 * Conversation storage that grows with the conversation, not with its square: each distinct
 * version of a message is stored once per call in `call_messages` (keyed by a hash of its JSON),
 * and an event that carries the history keeps, in `call_events.message_refs`, only which
 * messages it carried (a delta against an earlier event of the call, or a full list of refs).
 * Rows written before this migration keep their full `messages` in `payload` and read as before.
 * See src/webhooks/events/event-storage.ts.
 */
const statements = [
  `create table call_messages (
    call_id text not null,
    hash text not null,
    team_id text not null references teams(id) on delete cascade,
    body text not null,
    primary key (call_id, hash)
  )`,
  `alter table call_events add column message_refs json`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table call_events drop column message_refs`.execute(db);
  await sql`drop table call_messages`.execute(db);
}
