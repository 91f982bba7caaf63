import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateToLatest, openDatabase } from '../../src/db/database.js';

/**
 * PGlite takes seconds to initialise a fresh database but under one to load a dump, so the
 * migrated template is built once per run and every test clones it.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.PARLEY_TEST_DATABASE_URL) return async () => {};
  const dir = await mkdtemp(join(tmpdir(), 'parley-template-'));
  const handle = await openDatabase({ dataDir: 'memory://' });
  await migrateToLatest(handle.db);
  const dump = await handle.dump!();
  await handle.close();
  const file = join(dir, 'template.tar');
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  process.env.PARLEY_TEST_PGLITE_TEMPLATE = file;
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
