import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rename, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * One owner per embedded data directory. The process that opens a PGlite directory holds
 * `<dir>/parley.lock`, a JSON file naming it ({@link LockInfo}); no other process opens the
 * directory while it is held, since two PGlite instances on one directory lose writes and can
 * corrupt it.
 *
 * The file is created complete and atomically (written aside, then `link`ed into place, which
 * fails when it exists). A lock whose process is gone (`kill(pid, 0)` says ESRCH) or whose pid
 * now belongs to another process (its start time in `/proc/<pid>/stat` differs) is stale, and
 * is taken over under a guard directory (`mkdir` is atomic), re-checked there, so two
 * processes racing for a stale lock never both win. A holder on another host (another container
 * sharing the volume: its pids are not ours to check) touches the file every 10 s and is
 * stale only when it has not for a minute.
 */
export interface LockInfo {
  pid: number;
  /** The holder's host name: its pid is only meaningful there. */
  host?: string;
  /** When the holding process started (ms since the epoch). */
  startedAt: number;
  /** Linux: the process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22). */
  procStart?: string;
  /** Distinguishes this holder from any earlier one with the same pid. */
  nonce: string;
  /** The holder's HTTP address, once it listens. */
  address?: string;
  /** The holder's admin channel (a Unix socket only the same OS user can use). */
  socket?: string;
  /** What the holder is doing (`serve`, `migrate`, `keys create` …). */
  command?: string;
  /** When the file was last touched (its mtime; read, never written). */
  touchedAt?: number;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockInfo,
    detail = 'only one process may open it',
  ) {
    const what = [
      holder.command ? `parley ${holder.command}` : undefined,
      holder.address ? `serving ${holder.address}` : undefined,
      `since ${new Date(holder.startedAt).toISOString()}`,
    ].filter(Boolean);
    super(`the data directory ${dataDir} is in use by process ${holder.pid} (${what.join(', ')}); ${detail}`);
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  readonly info: LockInfo;
  /** Records more about the holder (its address, its admin socket). */
  update(patch: Partial<Pick<LockInfo, 'address' | 'socket' | 'command'>>): Promise<void>;
  /** Gives the directory up; only removes the file if it is still this holder's. */
  release(): Promise<void>;
}

export const LOCK_FILE = 'parley.lock';
const GUARD_STALE_MS = 5_000;
const HEARTBEAT_MS = 10_000;
const OTHER_HOST_STALE_MS = 60_000;

const lockPath = (dataDir: string) => join(dataDir, LOCK_FILE);

/** This process's start time in clock ticks since boot (Linux), or undefined elsewhere. */
export function processStartTicks(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command) is in parentheses and may hold spaces: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process named by a lock still runs (and is the same process, not a reused pid). */
export function isHolderAlive(info: LockInfo): boolean {
  if (info.host !== undefined && info.host !== hostname())
    return Date.now() - (info.touchedAt ?? 0) < OTHER_HOST_STALE_MS;
  try {
    process.kill(info.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (info.procStart === undefined) return true;
  const now = processStartTicks(info.pid);
  return now === undefined || now === info.procStart;
}

/** The lock's current content, or undefined when there is none. Unreadable content is stale. */
export async function readLock(dataDir: string): Promise<LockInfo | undefined | 'invalid'> {
  let text: string;
  let touchedAt: number;
  try {
    text = await readFile(lockPath(dataDir), 'utf8');
    touchedAt = (await stat(lockPath(dataDir))).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    return Number.isInteger(info.pid) && typeof info.nonce === 'string' ? { ...info, touchedAt } : 'invalid';
  } catch {
    return 'invalid';
  }
}

async function writeAside(dataDir: string, info: LockInfo): Promise<string> {
  const tmp = join(dataDir, `${LOCK_FILE}.${info.nonce}.${randomBytes(4).toString('hex')}`);
  await writeFile(tmp, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  return tmp;
}

/** Removes a stale lock, unless it changed since it was judged stale. Race-free (see above). */
async function removeStale(dataDir: string, stale: LockInfo | 'invalid'): Promise<void> {
  const guard = join(dataDir, `${LOCK_FILE}.takeover`);
  try {
    await mkdir(guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process is taking over right now (milliseconds); a guard left behind by a
    // process that died during its takeover is removed once it is clearly old.
    const since = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (since > GUARD_STALE_MS) await rmdir(guard).catch(() => {});
    return;
  }
  try {
    const current = await readLock(dataDir);
    const same =
      current === 'invalid'
        ? stale === 'invalid'
        : current !== undefined && stale !== 'invalid' && current.nonce === stale.nonce;
    if (same) await unlink(lockPath(dataDir)).catch(() => {});
  } finally {
    await rmdir(guard).catch(() => {});
  }
}

/**
 * Takes the data directory, or throws {@link DataDirLockedError} naming its live holder.
 * Creates the directory if needed.
 */
export async function acquireDataDirLock(dataDir: string, command?: string): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true });
  const procStart = processStartTicks('self');
  let info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: Math.round(Date.now() - process.uptime() * 1000),
    ...(procStart !== undefined ? { procStart } : {}),
    nonce: randomBytes(12).toString('hex'),
    ...(command ? { command } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    const tmp = await writeAside(dir, info);
    try {
      await link(tmp, lockPath(dir));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(tmp).catch(() => {});
    }
    const holder = await readLock(dir);
    if (holder === undefined) continue; // released meanwhile
    if (holder !== 'invalid' && isHolderAlive(holder)) throw new DataDirLockedError(dir, holder);
    if (attempt >= 50) throw new Error(`could not take over the stale lock ${lockPath(dir)}`);
    await removeStale(dir, holder);
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200, 10 * attempt)));
  }
  let released = false;
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockPath(dir), now, now).catch(() => {});
  }, HEARTBEAT_MS).unref();
  return {
    dataDir: dir,
    get info() {
      return info;
    },
    update: async (patch) => {
      if (released) return;
      info = { ...info, ...patch };
      const tmp = await writeAside(dir, info);
      await rename(tmp, lockPath(dir));
    },
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      const current = await readLock(dir);
      if (current !== undefined && current !== 'invalid' && current.nonce === info.nonce)
        await unlink(lockPath(dir)).catch(() => {});
    },
  };
}
