/**
 * One level of the platform benchmark: a fresh topology (receiver, 1 or 3 servers, a fresh
 * database), N web calls created through the HTTP API round-robin over the servers, callers
 * connected, a settle, a measured window, then every caller hangs up and the run waits until
 * every stored event was delivered (or a timeout), and tears everything down.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Callers,
  cpuBetween,
  dropSchema,
  IpcChild,
  newSchema,
  percentile,
  postgresCpu,
  processCpuMs,
  removeDir,
  trackDir,
} from './processes.js';

export interface Configuration {
  label: string;
  servers: number;
  /** PostgreSQL connection string; unset: PGlite. */
  postgresUrl?: string;
}

interface ServerReady {
  ready: true;
  url: string;
  instance: string;
}
interface ServerStats {
  jitterP50Ms: number;
  jitterP99Ms: number;
  jitterMaxMs: number;
  framesOut: number;
  cpuMs: number;
  wallMs: number;
  rss: number;
  heap: number;
}
interface ReceiverStats {
  windowMs: number;
  windowCount: number;
  latencies: number[];
  total: number;
  distinct: number;
  duplicates: number;
  unparsed: number;
  types: Record<string, number>;
}
interface Stored {
  events: number;
  deliveries: [string, string][];
  error?: string;
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const SETTLE_MS = 3_000;
const DRAIN_TIMEOUT_MS = Number(process.env.BENCH_DRAIN_TIMEOUT_MS ?? 90_000);
const round = (n: number, digits = 1) => (Number.isFinite(n) ? +n.toFixed(digits) : n);
const mb = (bytes: number) => bytes / 1024 / 1024;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api(base: string, key: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

export async function runLevel(cfg: Configuration, calls: number): Promise<Record<string, unknown>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-platform-'));
  trackDir(dataDir);
  const schema = cfg.postgresUrl ? newSchema(cfg.postgresUrl) : undefined;
  const startedAt = performance.now();
  const children: IpcChild<object>[] = [];
  let callers: Callers | undefined;
  try {
    const receiver = await IpcChild.start<{ port: number }>('receiver', './receiver.mjs', process.env);
    children.push(receiver);
    const key = `pk_bench_${randomBytes(16).toString('hex')}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PARLEY_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
      PARLEY_DATA_DIR: dataDir, // shared by the servers: their recordings, as shared storage would be
      PARLEY_BOOTSTRAP_KEY: key,
      PARLEY_SECRET_KEY: randomBytes(24).toString('hex'),
      PARLEY_RECORDING_SIGNING_KEY: randomBytes(24).toString('hex'),
      BENCH_SCHEMA: schema ?? '',
    };
    delete env.PARLEY_PUBLIC_URL;
    // The servers' connections carry a name: PostgreSQL's CPU is read from those backends only.
    const appName = `parley_bench_${randomBytes(4).toString('hex')}`;
    const pgUrl = cfg.postgresUrl ? withApplicationName(cfg.postgresUrl, appName) : undefined;
    if (pgUrl) env.DATABASE_URL = pgUrl;
    else delete env.DATABASE_URL;

    // The first migrates the fresh schema and seeds the key, then the others start together.
    const start = async (i: number) => {
      const server = await IpcChild.start<ServerReady>(`server ${i + 1}`, './server.ts', env);
      children.push(server);
      return server;
    };
    const servers = [await start(0)];
    servers.push(...(await Promise.all(Array.from({ length: cfg.servers - 1 }, (_, i) => start(i + 1)))));
    const first = servers[0] as IpcChild<ServerReady>;
    const assistant = await api(first.ready.url, key, '/v1/assistants', {
      name: 'bench',
      welcomeMessage: 'Hello! How can I help you today?',
      welcomeMessageInterruptionsEnabled: true,
      recordingEnabled: true,
      maxDurationSeconds: 3600,
      idleTimeoutSeconds: 600,
      endCallPhrases: [],
      assistantServer: { url: `http://127.0.0.1:${receiver.ready.port}/hook`, secret: 'bench-secret' },
    });
    // The idle baseline once start-up garbage is collected and returned (RSS lags the GC).
    await delay(2_000);
    await Promise.all(servers.map((s) => s.request<ServerStats>('stats')));
    const base = await Promise.all(servers.map((s) => s.request<ServerStats>('stats')));

    // The calls, created through the API round-robin, a few at a time.
    const urls: string[] = new Array(calls);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < calls; i = next++) {
          const server = servers[i % servers.length] as IpcChild<ServerReady>;
          const created = await api(server.ready.url, key, '/v1/calls', { assistantId: assistant._id });
          urls[i] = (created.join as { url: string }).url;
        }
      }),
    );
    const upMs = performance.now() - startedAt;
    callers = Callers.start();
    const connected = await callers.connect(urls);
    await delay(SETTLE_MS); // welcomes play

    const pg0 = pgUrl ? await postgresCpu(pgUrl, appName) : new Map<number, number>();
    await Promise.all([...servers.map((s) => s.request('reset')), receiver.request('reset')]);
    const rx0 = processCpuMs(receiver.proc.pid);
    await delay(SECONDS * 1000);
    const [stats, rx] = await Promise.all([
      Promise.all(servers.map((s) => s.request<ServerStats>('stats'))),
      receiver.request<ReceiverStats>('stats'),
    ]);
    const pgMs = pgUrl ? cpuBetween(pg0, await postgresCpu(pgUrl, appName)) : 0;
    const rxMs = processCpuMs(receiver.proc.pid) - rx0;

    // Everyone hangs up; every call's terminal events must be stored and delivered.
    await callers.stop();
    callers = undefined;
    const drainStart = performance.now();
    let stored: Stored = { events: 0, deliveries: [] };
    let final = rx;
    for (;;) {
      [stored, final] = await Promise.all([
        first.request<Stored>('stored'),
        receiver.request<ReceiverStats>('stats'),
      ]);
      if (stored.error) throw new Error(`reading the database: ${stored.error}`);
      const pending = stored.deliveries.filter(([, status]) => status === 'pending').length;
      const reports = final.types['end-of-call-report'] ?? 0;
      if ((pending === 0 && reports >= connected) || performance.now() - drainStart > DRAIN_TIMEOUT_MS) break;
      await delay(250);
    }
    const { ids } = await receiver.request<{ ids: string[] }>('ids');
    const received = new Set(ids);
    const lost = stored.deliveries.filter(([id]) => !received.has(id)).length;

    const wallMs = Math.max(...stats.map((s) => s.wallMs));
    const serverCpuMs = stats.reduce((a, s) => a + s.cpuMs, 0);
    const rssDelta = stats.reduce((a, s, i) => a + s.rss - (base[i]?.rss ?? 0), 0);
    const heapDelta = stats.reduce((a, s, i) => a + s.heap - (base[i]?.heap ?? 0), 0);
    const latencies = [...rx.latencies].sort((a, b) => a - b);
    return {
      config: cfg.label,
      calls,
      connected,
      jitterP50Ms: round(Math.max(...stats.map((s) => s.jitterP50Ms))),
      jitterP99Ms: round(Math.max(...stats.map((s) => s.jitterP99Ms))),
      jitterMaxMs: round(Math.max(...stats.map((s) => s.jitterMaxMs))),
      framesOut: stats.reduce((a, s) => a + s.framesOut, 0),
      eventsDelivered: rx.windowCount,
      eventsPerSecond: round(rx.windowCount / (rx.windowMs / 1000)),
      e2rP50Ms: percentile(latencies, 50),
      e2rP99Ms: percentile(latencies, 99),
      e2rMaxMs: latencies.at(-1) ?? Number.NaN,
      rssPerCallMB: round(mb(rssDelta) / calls, 2),
      heapPerCallMB: round(mb(heapDelta) / calls, 3), // steadier than RSS at small levels
      cpuPerCallPct: round(((serverCpuMs / wallMs) * 100) / calls, 2),
      serverCpuPct: Math.round((serverCpuMs / wallMs) * 100),
      postgresCpuPct: Math.round((pgMs / wallMs) * 100),
      receiverCpuPct: Math.round((rxMs / wallMs) * 100),
      eventsStored: stored.events,
      deliveries: stored.deliveries.length,
      undelivered: lost,
      duplicates: final.duplicates,
      reports: final.types['end-of-call-report'] ?? 0,
      startupMs: Math.round(upMs),
      drainMs: Math.round(performance.now() - drainStart),
    };
  } finally {
    await callers?.stop().catch(() => {});
    for (const child of children.reverse()) await child.stop().catch(() => {});
    if (cfg.postgresUrl && schema) await dropSchema(cfg.postgresUrl, schema).catch(() => {});
    await removeDir(dataDir).catch(() => {});
  }
}
