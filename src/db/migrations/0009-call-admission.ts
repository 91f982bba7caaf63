import { type Kysely, sql } from 'kysely';

const statements = [
  // What carries the call (`web`, a carrier's name, `sip`): `phone.provider.name` of its events,
  // even for a phone call that never got media (an outbound call that was busy).
  `alter table calls add column channel text not null default 'web'`,
  // The carrier's id of a phone call (Twilio CallSid, Telnyx call_control_id …): status callbacks
  // name it. Known at admission for inbound calls, after the carrier accepted an outbound one.
  `alter table calls add column carrier_call_id text`,
  // The Parley phone number (`phone_numbers.id`) carrying the call.
  `alter table calls add column phone_number_id text`,
  // How the owner ends the call when asked from another server (`end_requested_at`): the reason
  // and, for a call never connected, its phoneCallStatus (a carrier's busy, no-answer …).
  `alter table calls add column end_request jsonb`,
  `create unique index calls_carrier_call on calls(channel, carrier_call_id) where carrier_call_id is not null`,
  // Join tokens are media tokens now: whatever carries the call (a browser's WebSocket, a
  // carrier's media stream) redeems one to reach it.
  `alter table call_join_tokens rename to call_media_tokens`,
  `alter index call_join_tokens_expiry rename to call_media_tokens_expiry`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter index call_media_tokens_expiry rename to call_join_tokens_expiry`.execute(db);
  await sql`alter table call_media_tokens rename to call_join_tokens`.execute(db);
  await sql`drop index calls_carrier_call`.execute(db);
  for (const column of ['end_request', 'phone_number_id', 'carrier_call_id', 'channel'])
    await sql`alter table calls drop column ${sql.ref(column)}`.execute(db);
}
