import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export interface TeamsTable {
  id: string;
  name: string;
  created_at: CreatedAt;
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
}

export interface Database {
  teams: TeamsTable;
  api_keys: ApiKeysTable;
  assistants: AssistantsTable;
  calls: CallsTable;
}
