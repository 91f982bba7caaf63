/**
 * README "Several servers" on loopback: three `parley serve` processes (the built CLI) on one
 * PostgreSQL database (a migrated schema of the test database, or an empty database of its own)
 * behind HAProxy running deploy/haproxy.cfg itself, with only its `bind` port and its three
 * server addresses replaced, and a webhook receiver.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/db/database.js';
import { createFaultDatabase, type FaultDatabase, KEY, needsPostgres } from '../faults/support.js';
import { type ServeProcess, startServeProcess } from '../support/cli-process.js';
import { testDatabaseUrl } from '../support/test-database.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

export const CONFIG = join(import.meta.dirname, '../../deploy/haproxy.cfg');

/** The `haproxy` binary (Debian puts it in /usr/sbin, often not on a user's PATH). */
export const haproxyBinary = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']
  .filter(Boolean)
  .map((dir) => join(dir, 'haproxy'))
  .find((file) => existsSync(file));

/** Why the topology suite does not run here, or '' when it does. */
export const topologySkip = needsPostgres
  ? '(several servers need PostgreSQL, PARLEY_TEST_DATABASE_URL: skipped on PGlite)'
  : haproxyBinary
    ? ''
    : '(HAProxy is not installed; scripts/install-system-deps.sh installs Debian `haproxy`: skipped)';

/**
 * A database of its own, empty, with only the `public` schema: what a fresh deployment's servers
 * find (a schema of the shared test database would not do: Kysely's migrator looks for its lock
 * table in every schema, and other tests' schemas have one).
 */
export async function createFreshDatabase(): Promise<FaultDatabase> {
  const url = testDatabaseUrl as string;
  const id = randomBytes(6).toString('hex');
  const name = `parley_topology_${id}`;
  const applicationName = `parley_topology_${id}`;
  const admin = new pg.Client({ connectionString: url, application_name: 'parley_topology_admin' });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const own = new URL(url);
  own.pathname = `/${name}`;
  const handle = await openDatabase({ databaseUrl: own.toString(), poolSize: 2 });
  own.searchParams.set('application_name', applicationName);
  return {
    schema: 'public',
    applicationName,
    env: { DATABASE_URL: own.toString() },
    db: handle.db,
    terminateAll: async () => {
      const { rows } = await admin.query<{ ok: boolean }>(
        'select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1',
        [applicationName],
      );
      return rows.filter((r) => r.ok).length;
    },
    drop: async () => {
      await handle.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** A free TCP port on 127.0.0.1 (the servers need fixed ports: the balancer's config names them). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** deploy/haproxy.cfg with the balancer on `bindPort` and parley1..N on `serverPorts`, all on loopback. */
export function loopbackConfig(template: string, bindPort: number, serverPorts: number[]): string {
  const replace = (text: string, from: string, to: string) => {
    if (!text.includes(from)) throw new Error(`deploy/haproxy.cfg no longer contains "${from}"`);
    return text.replace(from, to);
  };
  let config = replace(template, 'bind :8080', `bind 127.0.0.1:${bindPort}`);
  serverPorts.forEach((port, i) => {
    config = replace(
      config,
      `server parley${i + 1} parley${i + 1}:3000`,
      `server parley${i + 1} 127.0.0.1:${port}`,
    );
  });
  if (/server parley\d+ parley\d+:/.test(config)) throw new Error('deploy/haproxy.cfg names more servers');
  return config;
}

/** HAProxy in the foreground, its log (stdout) and alerts (stderr) kept line by line. */
export class Balancer {
  readonly lines: string[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer) => {
      this.lines.push(...String(chunk).split('\n').filter(Boolean));
      for (const w of this.waiters.splice(0)) w();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  static async start(config: string, port: number, dir: string): Promise<Balancer> {
    const file = join(dir, 'haproxy.cfg');
    await writeFile(file, config);
    const child = spawn(haproxyBinary as string, ['-db', '-f', file], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const balancer = new Balancer(`http://127.0.0.1:${port}`, child);
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`haproxy exited with ${code}: ${balancer.lines.join('\n')}`);
    });
    exited.catch(() => {});
    // Listening once a request through it gets any answer.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answered = await Promise.race([
        fetch(`${balancer.url}/health`).then(
          () => true,
          () => false,
        ),
        exited,
      ]);
      if (answered) return balancer;
      if (Date.now() > deadline) throw new Error(`haproxy did not listen: ${balancer.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves with the first line (from `from` on) matching `pattern`. */
  async waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.slice(from).find((l) => pattern.test(l));
      if (line) return line;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`haproxy never logged ${pattern}: ${this.lines.slice(-20).join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

export interface Topology {
  database: FaultDatabase;
  receiver: WebhookReceiver;
  balancer: Balancer;
  /** parley1..N; an entry is replaced by `restart`. */
  servers: ServeProcess[];
  /** Starts server `i` again on its port (a new process, a new instance id). */
  restart(i: number): Promise<ServeProcess>;
  /** Each server's instance id (`GET /health` on the server itself), as `calls.owner` names it. */
  instances(): Promise<string[]>;
}

/**
 * Starts the topology; `cleanups` gets what stops and removes it. `fresh: true` gives it an empty
 * database of its own, which the servers migrate at start, all at once (as compose starts them);
 * else a migrated schema of the test database.
 */
export async function startTopology(options: {
  heartbeatMs: number;
  cleanups: (() => Promise<void>)[];
  servers?: number;
  fresh?: boolean;
}): Promise<Topology> {
  const count = options.servers ?? 3;
  const database = options.fresh ? await createFreshDatabase() : await createFaultDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'parley-topology-'));
  const receiver = await new WebhookReceiver().start();
  options.cleanups.push(async () => {
    await receiver.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });
  const [lbPort, ...ports] = await Promise.all(Array.from({ length: count + 1 }, () => freePort()));
  if (lbPort === undefined) throw new Error('no port');
  const env = {
    ...database.env,
    PARLEY_BOOTSTRAP_KEY: KEY,
    PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
    PARLEY_CALL_HEARTBEAT_MS: String(options.heartbeatMs),
    PARLEY_PUBLIC_URL: `http://127.0.0.1:${lbPort}`,
    // Shared by every server behind one URL (README "Several servers").
    PARLEY_SECRET_KEY: 'topology-secret-key-0123456789abcdef',
    PARLEY_RECORDING_SIGNING_KEY: 'topology-recording-key-0123456789abcdef',
    // A drained server's calls run until they end (the tests end them).
    PARLEY_DRAIN_TIMEOUT_MS: '120000',
  };
  const start = (i: number) =>
    startServeProcess({ ...env, PORT: String(ports[i]), PARLEY_DATA_DIR: join(dir, `parley${i + 1}`) });
  const servers = await Promise.all(ports.map((_, i) => start(i)));
  options.cleanups.push(async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  });
  const balancer = await Balancer.start(
    loopbackConfig(await readFile(CONFIG, 'utf8'), lbPort, ports),
    lbPort,
    dir,
  );
  options.cleanups.push(() => balancer.stop());
  return {
    database,
    receiver,
    balancer,
    servers,
    restart: async (i) => {
      const server = await start(i);
      servers[i] = server;
      return server;
    },
    instances: () =>
      Promise.all(
        servers.map(
          async (s) => ((await (await fetch(`${s.url}/health`)).json()) as { instance: string }).instance,
        ),
      ),
  };
}

/** Which backend (`parley1` …) answered `GET /health` through the balancer, and how. */
export async function healthVia(lb: string): Promise<{ status: number; server: string }> {
  const res = await fetch(`${lb}/health`);
  await res.arrayBuffer();
  return { status: res.status, server: res.headers.get('x-parley-server') ?? '' };
}

/** Who owns each call now (`calls.owner`), by call id. */
export async function ownersOf(db: FaultDatabase['db'], ids: string[]): Promise<Map<string, string>> {
  const rows = await db.selectFrom('calls').select(['id', 'owner']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.owner ?? '']));
}
