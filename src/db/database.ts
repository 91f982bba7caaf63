import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { migrationProvider } from './migrations/index.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** PGlite in a directory: this process's exclusive hold on it (see `data-dir-lock.ts`). */
  lock?: DataDirLock;
  /** Dump the embedded database (PGlite only); used to clone test databases quickly. */
  dump?: () => Promise<Blob>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; when absent the embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; `memory://` for an in-memory database. */
  dataDir?: string | undefined;
  /** PGlite only: start from this dump instead of an empty directory (test template clone). */
  loadDataDir?: Blob | undefined;
  /** PostgreSQL only: confine everything to this schema (created if missing); used by tests. */
  schema?: string | undefined;
  poolSize?: number | undefined;
  /** PGlite only: what this process does (`serve`, `keys create` …), recorded in the lock. */
  command?: string | undefined;
  /**
   * PostgreSQL only: told of a connection that failed outside a query (a terminated backend, a
   * restart, `idle_session_timeout`, a proxy reset). The pool drops that connection and opens a
   * new one on demand; without a handler such an error would end the process.
   */
  onConnectionError?: ((error: Error) => void) | undefined;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema))
      throw new Error(`invalid schema name ${schema}`);
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    handleConnectionErrors(pool, options.onConnectionError);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    return { db, kind: 'postgres', close: () => db.destroy() };
  }
  const dataDir = options.dataDir ?? './.parley';
  const inMemory = dataDir.startsWith('memory://');
  const path = inMemory ? dataDir : `${dataDir.replace(/\/$/, '')}/db`;
  // One process per data directory: taken before PGlite touches it, given up after it closed.
  const lock = inMemory ? undefined : await acquireDataDirLock(dataDir, options.command);
  let pglite: PGlite;
  try {
    if (!inMemory) await mkdir(path, { recursive: true });
    pglite = new PGlite(path, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
    await pglite.waitReady;
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    ...(lock ? { lock } : {}),
    dump: async () => (await pglite.dumpDataDir('none')) as Blob,
    close: async () => {
      try {
        await db.destroy();
        await pglite.close();
      } finally {
        await lock?.release();
      }
    },
  };
}

/**
 * A connection can fail while idle in the pool (the pool then emits 'error') or while checked
 * out between two queries of a transaction (the client emits 'error', with no listener of the
 * pool's own). Both are handled: the query in flight, if any, fails and is retried by its
 * caller; the broken connection is discarded on release; the process goes on.
 */
function handleConnectionErrors(pool: pg.Pool, onError: ((error: Error) => void) | undefined): void {
  const log =
    onError ?? ((error: Error) => console.warn(`parley: database connection lost: ${error.message}`));
  // An idle connection's error reaches both listeners: report it once.
  const seen = new WeakSet<Error>();
  const report = (error: Error) => {
    if (seen.has(error)) return;
    seen.add(error);
    log(error);
  };
  pool.on('error', report);
  pool.on('connect', (client) => client.on('error', report));
}

export async function migrateToLatest(db: Db, schema?: string): Promise<string[]> {
  // A search_path set in the connection string (`?options=-c search_path=parley`) puts Parley in
  // its own schema: the migration tables go there too. Kysely would otherwise look for them in
  // every schema and trip over another schema's.
  const tableSchema =
    schema ?? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s;
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    ...(tableSchema && tableSchema !== 'public' ? { migrationTableSchema: tableSchema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // Kysely's introspection (is the migration table there?) calls pg_get_serial_sequence on the
    // tables of every schema of the database; a schema another user drops meanwhile fails it with
    // 3F000 (invalid_schema_name) before anything was migrated. Seen when test files drop their
    // schemas in parallel; harmless to run again.
    if ((error as { code?: unknown }).code === '3F000' && attempt < 5) continue;
    throw error instanceof Error ? error : new Error(String(error));
  }
}

export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
