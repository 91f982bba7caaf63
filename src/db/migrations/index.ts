import type { Migration, MigrationProvider } from 'kysely';
import * as foundation from './0001-foundation.js';
import * as webhooks from './0002-webhooks.js';
import * as teamSettings from './0003-team-settings.js';

/** Migrations are compiled in (no directory scanning), so the built package runs anywhere. */
const migrations: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-webhooks': webhooks,
  '0003-team-settings': teamSettings,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
