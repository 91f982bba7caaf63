import { type Kysely, sql } from 'kysely';

const statements = [
  `alter table calls add column event_sequence integer not null default 0`,
  `create table call_events (
    id text primary key,
    team_id text not null references teams(id) on delete cascade,
    call_id text,
    sequence integer not null,
    type text not null,
    payload json not null,
    created_at timestamptz not null default now()
  )`,
  `create unique index call_events_call_sequence on call_events(call_id, sequence) where call_id is not null`,
  `create table webhook_deliveries (
    id text primary key,
    team_id text not null references teams(id) on delete cascade,
    event_id text not null references call_events(id) on delete cascade,
    call_id text,
    sequence integer not null,
    event_type text not null,
    mode text not null,
    endpoint_url text not null,
    target jsonb not null,
    status text not null,
    attempt_count integer not null default 0,
    next_attempt_at timestamptz not null,
    first_attempt_at timestamptz,
    lease_owner text,
    lease_until timestamptz,
    last_status_code integer,
    last_error text,
    replay_of text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    completed_at timestamptz
  )`,
  `create index webhook_deliveries_due on webhook_deliveries(next_attempt_at) where status = 'pending'`,
  `create index webhook_deliveries_team_created on webhook_deliveries(team_id, created_at desc, id desc)`,
  `create index webhook_deliveries_call on webhook_deliveries(call_id, sequence)`,
  `create table webhook_attempts (
    id text primary key,
    delivery_id text not null references webhook_deliveries(id) on delete cascade,
    attempted_at timestamptz not null,
    url text not null,
    status_code integer,
    latency_ms double precision not null,
    error text,
    response_snippet text not null default ''
  )`,
  `create index webhook_attempts_delivery on webhook_attempts(delivery_id, attempted_at)`,
  `create table webhook_endpoints (
    team_id text not null references teams(id) on delete cascade,
    url text not null,
    disabled_at timestamptz,
    disabled_reason text,
    updated_at timestamptz not null default now(),
    primary key (team_id, url)
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['webhook_endpoints', 'webhook_attempts', 'webhook_deliveries', 'call_events']) {
    await sql`drop table ${sql.id(table)}`.execute(db);
  }
  await sql`alter table calls drop column event_sequence`.execute(db);
}
