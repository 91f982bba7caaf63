import { type Kysely, sql } from 'kysely';

const statements = [
  // The single-use tokens that join a call's media (`GET /v1/calls/:id/ws?token=…`), shared by
  // every server on the database: whichever server the client reaches redeems the token. Only
  // the token's SHA-256 is stored. `hang_up`: how the call ends as soon as a client joins (an
  // assistant-request that gave no assistant), for the server that runs it.
  `create table call_join_tokens (
    token_hash text primary key,
    call_id text not null,
    team_id text not null,
    expires_at timestamptz not null,
    used_at timestamptz,
    hang_up jsonb,
    created_at timestamptz not null default now()
  )`,
  // Old tokens are deleted an hour after they expired (see join-tokens.ts).
  `create index call_join_tokens_expiry on call_join_tokens(expires_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table call_join_tokens`.execute(db);
}
