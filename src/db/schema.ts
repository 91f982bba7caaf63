import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export interface TeamsTable {
  id: string;
  name: string;
  created_at: CreatedAt;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface ApiKeysTable {
  id: string;
  team_id: string;
  key_hash: string;
  key_prefix: string;
  name: Generated<string>;
  created_at: CreatedAt;
  last_used_at: ColumnType<Date | null, never, Date | string>;
}

export interface AssistantsTable {
  id: string;
  team_id: string;
  name: string;
  spec: JSONColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CallsTable {
  id: string;
  team_id: string;
  assistant_id: string | null;
  status: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  record: JSONColumnType<Record<string, unknown>, string, string>;
  event_sequence: Generated<number>;
  owner: string | null;
  heartbeat_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  assistant_snapshot: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** Set by `POST /v1/calls/:id/end` on a server that does not run the call; its owner ends it. */
  end_requested_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** When the end-of-call-report was stored (unset on an ended call: recovery reports it). */
  reported_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** What carries the call: `web`, a carrier's name or `sip` (migration 0009). */
  channel: ColumnType<string, string | undefined, string>;
  /** The carrier's id of a phone call (unique per channel). */
  carrier_call_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The Parley phone number carrying the call. */
  phone_number_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** How the owner ends the call when asked from another server (see `end_requested_at`). */
  end_request: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
}

export interface CallEventsTable {
  id: string;
  team_id: string;
  call_id: string | null;
  sequence: number;
  type: string;
  payload: JSONColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
  /**
   * Which conversation messages the event carried (event-storage.ts), its `payload` then holding
   * `"messages": null`; null for events without messages and for rows written before 0006.
   */
  message_refs: ColumnType<unknown, string | null | undefined, string | null>;
}

/** Each distinct version of a call's conversation message, stored once (event-storage.ts). */
export interface CallMessagesTable {
  call_id: string;
  /** Hash of `body` (base64url of SHA-256, first 22 characters). */
  hash: string;
  team_id: string;
  /** The message's JSON, exactly as the events carry it. */
  body: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  team_id: string;
  event_id: string;
  call_id: string | null;
  sequence: number;
  event_type: string;
  /** 'notification' (queued, retried) or 'sync' (tool-calls, assistant-request, tests). */
  mode: string;
  endpoint_url: string;
  target: JSONColumnType<Record<string, unknown>, string, string>;
  /** pending | delivered | failed */
  status: string;
  attempt_count: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string, Date | string>;
  first_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  lease_owner: string | null;
  lease_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_status_code: number | null;
  last_error: string | null;
  replay_of: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  completed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  attempted_at: ColumnType<Date, Date | string, never>;
  url: string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_snippet: string;
}

export interface WebhookEndpointsTable {
  team_id: string;
  url: string;
  disabled_at: Date | null;
  disabled_reason: string | null;
  updated_at: UpdatedAt;
}

export interface ProviderCredentialsTable {
  team_id: string;
  provider: string;
  /** `v1.<iv>.<tag>.<ciphertext>` (base64url), AES-256-GCM under the server key. */
  api_key_encrypted: string | null;
  /** Last four characters of the key, for display. */
  api_key_hint: string | null;
  base_url: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/**
 * One-time media tokens (hashed), redeemed by whichever server the media reaches (migration 0008
 * as `call_join_tokens`, renamed by 0009).
 */
export interface CallMediaTokensTable {
  token_hash: string;
  call_id: string;
  team_id: string;
  expires_at: Date;
  used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  hang_up: JSONColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

/** A team's phone numbers (migration 0010); credentials sealed with the server key. */
export interface PhoneNumbersTable {
  id: string;
  team_id: string;
  number: string;
  provider: string;
  name: string | null;
  assistant_id: string | null;
  server: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  fallback_destination: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  credentials_sealed: string;
  credentials_shown: JSONColumnType<Record<string, string>, string, string>;
  api_base_url: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface Database {
  teams: TeamsTable;
  api_keys: ApiKeysTable;
  assistants: AssistantsTable;
  calls: CallsTable;
  call_media_tokens: CallMediaTokensTable;
  call_events: CallEventsTable;
  call_messages: CallMessagesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_endpoints: WebhookEndpointsTable;
  provider_credentials: ProviderCredentialsTable;
  phone_numbers: PhoneNumbersTable;
}
