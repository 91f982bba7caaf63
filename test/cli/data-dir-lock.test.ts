import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acquireDataDirLock,
  DataDirLockedError,
  LOCK_FILE,
  type LockInfo,
  processStartTicks,
} from '../../src/db/data-dir-lock.js';
import { openDatabase, pingDatabase } from '../../src/db/database.js';
import { testDatabaseUrl } from '../support/test-database.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-lock-'));
  dirs.push(dir);
  return dir;
}

const readLock = async (dir: string) => JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as LockInfo;

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

const staleLock = (pid: number, extra: Partial<LockInfo> = {}): LockInfo => ({
  pid,
  startedAt: Date.now() - 60_000,
  nonce: 'stale',
  socket: '/nowhere/admin.sock',
  ...extra,
});

describe('data directory lock', () => {
  it('has one holder: a second acquisition is refused, naming the holder, until it is released', async () => {
    const dir = await tempDir();
    const lock = await acquireDataDirLock(dir, 'serve');
    await lock.update({ address: 'http://127.0.0.1:3000' });
    const refused = await acquireDataDirLock(dir, 'keys create').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as Error).message).toContain(`in use by process ${process.pid}`);
    expect((refused as Error).message).toContain('http://127.0.0.1:3000');
    expect((refused as DataDirLockedError).holder).toMatchObject({ pid: process.pid, command: 'serve' });

    await lock.release();
    const again = await acquireDataDirLock(dir);
    expect((await readLock(dir)).nonce).toBe(again.info.nonce);
    await again.release();
    expect(await readdir(dir)).toEqual([]); // nothing left behind
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(staleLock(deadPid())));
    const lock = await acquireDataDirLock(dir, 'serve');
    expect(await readLock(dir)).toMatchObject({ pid: process.pid, nonce: lock.info.nonce });
    expect((await readLock(dir)).socket).toBeUndefined();
    await lock.release();
  });

  it.skipIf(processStartTicks('self') === undefined)(
    'takes over a lock whose pid now belongs to another process (pid reuse)',
    async () => {
      const dir = await tempDir();
      // This very pid, but a process that started at another time: a container restart.
      await writeFile(join(dir, LOCK_FILE), JSON.stringify(staleLock(process.pid, { procStart: '1' })));
      const lock = await acquireDataDirLock(dir);
      expect((await readLock(dir)).nonce).toBe(lock.info.nonce);
      await lock.release();
    },
  );

  it('judges a holder on another host (a container sharing the volume) by its heartbeat, not its pid', async () => {
    const dir = await tempDir();
    const file = join(dir, LOCK_FILE);
    // Its pid means nothing here (dead in our namespace), but it touched the file just now: live.
    await writeFile(file, JSON.stringify(staleLock(deadPid(), { host: 'another-container' })));
    await expect(acquireDataDirLock(dir)).rejects.toBeInstanceOf(DataDirLockedError);
    // Silent for two minutes: gone.
    const old = new Date(Date.now() - 120_000);
    await utimes(file, old, old);
    const lock = await acquireDataDirLock(dir);
    expect((await readLock(dir)).nonce).toBe(lock.info.nonce);
    await lock.release();
  });

  it('takes over an unreadable lock file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), '{"pid": 12');
    const lock = await acquireDataDirLock(dir);
    expect((await readLock(dir)).nonce).toBe(lock.info.nonce);
    await lock.release();
  });

  it('lets exactly one of many racing takers win a stale lock', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(staleLock(deadPid())));
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => acquireDataDirLock(dir)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DataDirLockedError);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireDataDirLock>>>).value;
    expect((await readLock(dir)).nonce).toBe(winner.info.nonce);
    await winner.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('does not remove a lock that is no longer its own', async () => {
    const dir = await tempDir();
    const lock = await acquireDataDirLock(dir);
    const other = { ...lock.info, nonce: 'another holder' };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(other));
    await lock.release();
    expect((await readLock(dir)).nonce).toBe('another holder');
  });

  // The embedded database only: the PostgreSQL pass has nothing to add here.
  it.skipIf(Boolean(testDatabaseUrl))(
    'guards the embedded database: a second open of a held directory fails and leaves the first working',
    async () => {
      const dir = await tempDir();
      const template = process.env.PARLEY_TEST_PGLITE_TEMPLATE;
      const loadDataDir = template ? new Blob([await readFile(template)]) : undefined;
      const first = await openDatabase({ dataDir: dir, loadDataDir });
      await expect(openDatabase({ dataDir: dir })).rejects.toBeInstanceOf(DataDirLockedError);
      await pingDatabase(first.db);
      await first.close();
      const reopened = await openDatabase({ dataDir: dir });
      await pingDatabase(reopened.db);
      await reopened.close();
    },
    60_000,
  );
});
