import type { Migration, MigrationProvider } from 'kysely';
import * as foundation from './0001-foundation.js';

/** Migrations are compiled in (no directory scanning), so the built package runs anywhere. */
const migrations: Record<string, Migration> = {
  '0001-foundation': foundation,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
