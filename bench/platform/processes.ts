/**
 * The processes of the platform benchmark and their cleanup: Parley servers (server.ts) and the
 * webhook receiver (receiver.mjs) as forked children spoken to over IPC with timeouts, the
 * callers (bench/calls/clients.ts) at nice 10, PostgreSQL schemas, and /proc CPU readings.
 * Every child and schema is registered so that `cleanup()` (also on SIGINT/SIGTERM and on an
 * uncaught error) kills what is left and drops what was created.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/database.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const live = new Set<ChildProcess>();
const schemas = new Set<{ url: string; schema: string }>();
const dirs = new Set<string>();

/** Kills every child still running, drops every schema and removes every directory created. */
export async function cleanup(): Promise<void> {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
  for (const entry of [...schemas]) await dropSchema(entry.url, entry.schema).catch(() => {});
  for (const dir of [...dirs]) await rm(dir, { recursive: true, force: true }).catch(() => {});
  dirs.clear();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

export function trackDir(dir: string): void {
  dirs.add(dir);
}
export async function removeDir(dir: string): Promise<void> {
  dirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

/** A forked child answering `{cmd, id}` requests with `{id, ...}`. */
export class IpcChild<Ready extends object> {
  private nextId = 1;
  private readonly pending = new Map<number, (msg: Record<string, unknown> | Error) => void>();
  exited = false;

  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    readonly ready: Ready,
  ) {
    proc.on('message', (raw) => {
      const msg = raw as Record<string, unknown>;
      if (typeof msg.id === 'number') {
        this.pending.get(msg.id)?.(msg);
        this.pending.delete(msg.id);
      }
    });
  }

  static start<Ready extends object>(
    name: string,
    script: string,
    env: NodeJS.ProcessEnv,
    timeoutMs = 90_000,
  ): Promise<IpcChild<Ready>> {
    const proc = fork(here(script), [], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(proc);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${name} was not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      proc.once('message', (msg) => {
        clearTimeout(timer);
        const child = new IpcChild<Ready>(name, proc, msg as Ready);
        proc.once('exit', (code, signal) => {
          child.exited = true;
          live.delete(proc);
          // A child that dies mid-run fails its pending requests at once, not at their timeouts.
          for (const settle of child.pending.values())
            settle(new Error(`${name} exited (code ${code}, signal ${signal})`));
          child.pending.clear();
        });
        resolve(child);
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        live.delete(proc);
        reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`));
      });
    });
  }

  request<T extends object>(cmd: string, timeoutMs = 30_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (msg) => {
        clearTimeout(timer);
        if (msg instanceof Error) reject(msg);
        else resolve(msg as T);
      });
      this.proc.send({ cmd, id });
    });
  }

  /** Asks the child to close (a server ends its calls first), then kills it if it does not exit. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    if (this.name.startsWith('server')) await this.request('close', timeoutMs).catch(() => {});
    else this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The callers: one WebSocket per call at real-time pace, in a process at nice 10. */
export class Callers {
  private readonly waiting: ((line: string) => void)[] = [];
  private constructor(private readonly proc: ChildProcess) {
    let buffer = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        this.waiting.shift()?.(line);
      }
    });
  }

  static start(): Callers {
    const args = ['--import', 'tsx', here('../calls/clients.ts')];
    const proc =
      process.env.BENCH_NICE === '0'
        ? spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
        : spawn('nice', ['-n', '10', process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    return new Callers(proc);
  }

  /** Connects these join URLs; resolves with how many callers are connected in all. */
  connect(urls: string[], timeoutMs = 120_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`callers: not connected within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { connected: number }).connected);
      });
      this.proc.stdin?.write(`${JSON.stringify({ urls })}\n`);
    });
  }

  /** Hangs every caller up (their calls end: user hung up) and waits for the process to exit. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin?.write(`${JSON.stringify({ stop: true })}\n`);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Creates a fresh schema name (created by the first server) and registers it for dropping. */
export function newSchema(url: string): string {
  const schema = `bench_platform_${randomBytes(4).toString('hex')}`;
  schemas.add({ url, schema });
  return schema;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  for (const entry of schemas) if (entry.schema === schema) schemas.delete(entry);
  const db = await openDatabase({ databaseUrl: url, poolSize: 1 });
  try {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db.db);
  } finally {
    await db.close();
  }
}

/** The server's version, or why PostgreSQL cannot be reached. */
export async function postgresVersion(url: string): Promise<string> {
  const db = await openDatabase({ databaseUrl: url, poolSize: 1 });
  try {
    const rows = await sql<{ v: string }>`select version() as v`.execute(db.db);
    return rows.rows[0]?.v.split(' ').slice(0, 2).join(' ') ?? 'PostgreSQL';
  } finally {
    await db.close();
  }
}

const CLOCK_TICKS = 100;
/** CPU time (user + system, ms) of a process, from /proc (Linux; 0 elsewhere). */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * The PostgreSQL processes that work for this benchmark: the client backends whose
 * application_name is `appName` (the servers' pools and LISTEN connections) and the server's
 * own background processes (WAL writer, checkpointer …), with their CPU time so far (ms).
 */
export async function postgresCpu(url: string, appName: string): Promise<Map<number, number>> {
  const db = await openDatabase({ databaseUrl: url, poolSize: 1 });
  try {
    const rows = await sql<{ pid: number }>`select pid from pg_stat_activity
      where application_name = ${appName} or backend_type <> 'client backend'`.execute(db.db);
    return new Map(rows.rows.map((r) => [r.pid, processCpuMs(r.pid)]));
  } finally {
    await db.close();
  }
}

/** CPU (ms) used between two readings by the processes of the second (new ones from zero). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += Math.max(0, ms - (before.get(pid) ?? 0));
  return total;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
