import { type Kysely, sql } from 'kysely';

const statements = [
  `create table teams (
    id text primary key,
    name text not null unique,
    created_at timestamptz not null default now()
  )`,
  `create table api_keys (
    id text primary key,
    team_id text not null references teams(id) on delete cascade,
    key_hash text not null unique,
    key_prefix text not null,
    name text not null default '',
    created_at timestamptz not null default now(),
    last_used_at timestamptz
  )`,
  `create index api_keys_team on api_keys(team_id)`,
  `create table assistants (
    id text primary key,
    team_id text not null references teams(id) on delete cascade,
    name text not null,
    spec jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  `create index assistants_team_created on assistants(team_id, created_at desc, id desc)`,
  `create table calls (
    id text primary key,
    team_id text not null references teams(id) on delete cascade,
    assistant_id text,
    status text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    record jsonb not null
  )`,
  `create index calls_team_created on calls(team_id, created_at desc, id desc)`,
  `create index calls_team_status on calls(team_id, status, created_at desc)`,
  `create index calls_team_assistant on calls(team_id, assistant_id, created_at desc)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['calls', 'assistants', 'api_keys', 'teams'])
    await sql`drop table ${sql.id(table)}`.execute(db);
}
