/**
 * Opens the database a server or a CLI command is configured with (PostgreSQL at
 * `PARLEY_DATABASE_URL`, else the embedded one in the data directory) and migrates it: one
 * function for `parley serve` and the CLI's data commands (admin/run-from-cli.ts).
 */
import type { Logger } from 'pino';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './database.js';

export async function openConfiguredDatabase(
  settings: { databaseUrl?: string | undefined; dataDir: string },
  logger: Logger,
  /** What this process does, recorded in the embedded data directory's lock. */
  command = 'serve',
): Promise<DatabaseHandle> {
  const database = await openDatabase({
    databaseUrl: settings.databaseUrl,
    dataDir: settings.dataDir,
    command,
    onConnectionError: (err) =>
      logger.warn({ err }, 'database connection lost; a new one is opened for the next query'),
  });
  const applied = await migrateToLatest(database.db);
  logger.info({ database: database.kind, applied }, 'database ready');
  return database;
}
