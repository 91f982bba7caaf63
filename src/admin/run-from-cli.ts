import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { DataDirLockedError } from '../db/data-dir-lock.js';
import { openConfiguredDatabase } from '../db/open-configured.js';
import { AdminUnavailableError, callAdmin } from './admin-client.js';
import {
  type OperationInput,
  type OperationName,
  type OperationResult,
  runOperation,
  validateOperationInput,
} from './operations.js';

/**
 * Runs a CLI command's data operation wherever the data is: with PostgreSQL, directly; with the
 * embedded database, in this process when no other holds the data directory, else in the
 * server that holds it, through its admin channel. A holder with no admin channel (another
 * CLI command, a server still starting) is waited for, up to `waitMs` (default 60 s), saying so
 * on `notify`.
 */
export async function runFromCli<N extends OperationName>(
  config: Config,
  logger: Logger,
  name: N,
  input: OperationInput<N>,
  options: { command: string; waitMs?: number; notify?: (message: string) => void },
): Promise<{ result: OperationResult<N>; via: 'database' | 'server' }> {
  validateOperationInput(name, input);
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  let notified = false;
  // A CLI run from another directory than the server's would quietly start a database of its own.
  const dbDir = resolve(config.dataDir, 'db');
  const fresh = !config.databaseUrl && !existsSync(dbDir);
  for (;;) {
    let holder: DataDirLockedError;
    try {
      const database = await openConfiguredDatabase(config, logger, options.command);
      if (fresh)
        options.notify?.(
          `there was no database in ${dbDir}: created a new one (to use a server's data, run this from its directory or set its PARLEY_DATA_DIR)`,
        );
      try {
        return { result: await runOperation({ db: database.db }, name, input), via: 'database' };
      } finally {
        await database.close();
      }
    } catch (error) {
      if (!(error instanceof DataDirLockedError)) throw error;
      holder = error;
    }
    if (holder.holder.socket) {
      try {
        return { result: await callAdmin(holder.holder.socket, name, input), via: 'server' };
      } catch (error) {
        if (!(error instanceof AdminUnavailableError)) throw error;
      }
    }
    if (Date.now() >= deadline)
      throw new DataDirLockedError(holder.dataDir, holder.holder, 'and it offers no admin channel to ask');
    if (!notified) {
      notified = true;
      options.notify?.(
        `waiting for process ${holder.holder.pid}${holder.holder.command ? ` (parley ${holder.holder.command})` : ''}, which holds ${holder.dataDir}, to finish starting or to exit`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
