import { type Kysely, sql } from 'kysely';

const statements = [
  // A team's phone numbers at their carriers (`/v1/phone-numbers`). `credentials_sealed`: every
  // credential field as JSON, AES-256-GCM under the server key (SecretBox, context
  // `phone-number:<team>:<id>`); `credentials_shown`: the non-secret fields and the hints of
  // the secret ones, for responses. One number once per team.
  `create table phone_numbers (
    id text primary key,
    team_id text not null references teams(id) on delete cascade,
    number text not null,
    provider text not null,
    name text,
    assistant_id text,
    server jsonb,
    fallback_destination jsonb,
    credentials_sealed text not null,
    credentials_shown jsonb not null,
    api_base_url text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  `create unique index phone_numbers_team_number on phone_numbers(team_id, number)`,
  `create index phone_numbers_team_created on phone_numbers(team_id, created_at desc, id desc)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table phone_numbers`.execute(db);
}
