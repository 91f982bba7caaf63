import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../../src/db/database.js';

/** Which database the suite runs on: PGlite by default, PostgreSQL when this is set. */
export const testDatabaseUrl = process.env.PARLEY_TEST_DATABASE_URL;

export interface TestDatabase {
  /** Opens (or re-opens, as after a restart) the same database. */
  open(): Promise<DatabaseHandle>;
  /** Options to hand to a child `parley` process so it uses the same database. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test: a clone of the PGlite template in its own data
 * directory, or a schema of its own on PostgreSQL.
 */
export async function createTestDatabase(dataDir: string): Promise<TestDatabase> {
  if (testDatabaseUrl) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const open = async () => {
      const handle = await openDatabase({ databaseUrl: testDatabaseUrl, schema, poolSize: 4 });
      await migrateToLatest(handle.db, schema);
      return handle;
    };
    return {
      open,
      env: {
        DATABASE_URL: `${testDatabaseUrl}${testDatabaseUrl.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`,
      },
      drop: async () => {
        const handle = await openDatabase({ databaseUrl: testDatabaseUrl, poolSize: 1 });
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db);
        await handle.close();
      },
    };
  }
  const template = process.env.PARLEY_TEST_PGLITE_TEMPLATE;
  let first = true;
  return {
    open: async () => {
      const loadDataDir = first && template ? new Blob([await readFile(template)]) : undefined;
      first = false;
      const handle = await openDatabase({ dataDir, loadDataDir });
      await migrateToLatest(handle.db);
      return handle;
    },
    env: { PARLEY_DATA_DIR: dataDir },
    drop: async () => {},
  };
}
