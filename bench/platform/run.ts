/**
 * Full-platform benchmark (issue 18), one command:
 *
 *   npm run bench:platform      BENCH_LEVELS=50,100,200,300 BENCH_SECONDS=20
 *                               BENCH_CONFIGS=pglite,pg1,pg3 BENCH_COMPARE=1
 *                               PARLEY_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
 *
 * Unlike bench:calls (events counted in memory), every call event here is stored and
 * delivered: whole Parley servers (bench/platform/server.ts: createParley with the fake
 * providers of bench/calls and WebRTC VAD on every frame, recordings on) in their own
 * processes, a signed-webhook receiver in its own process (receiver.mjs), callers at real-time
 * pace at nice 10 (bench/calls/clients.ts). Calls are created through the HTTP API, round-robin
 * over the servers. Configurations: `pglite` (one server, embedded database), `pg1` (one
 * server on PostgreSQL, a fresh schema) and `pg3` (three servers on one PostgreSQL schema).
 * Each level runs on a fresh topology.
 *
 * Per configuration and level: outgoing frame jitter p99 (the worst server's), webhook
 * event-to-receipt p50/p99 (receipt time minus the event's `timestamp`, when it was recorded),
 * events per second delivered, memory per call (servers' RSS growth / calls), CPU per call
 * (servers' CPU, % of one core per call), PostgreSQL's CPU, and after the hang-up whether every
 * stored delivery reached the receiver. Then the most calls with jitter p99 under 20 ms per
 * configuration, next to bench:calls' figure from the same run (BENCH_COMPARE=0 skips it).
 */
import { spawnSync } from 'node:child_process';
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Configuration, runLevel } from './level.js';
import { cleanup, postgresVersion } from './processes.js';

const LEVELS = (process.env.BENCH_LEVELS ?? '50,100,200,300').split(',').map(Number);
if (LEVELS.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error(
    `BENCH_LEVELS must be positive integers separated by commas, got "${process.env.BENCH_LEVELS}"`,
  );
const PG_URL = process.env.PARLEY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ALL: Record<string, Configuration> = {
  pglite: { label: 'PGlite, 1 server', servers: 1 },
  pg1: { label: 'PostgreSQL, 1 server', servers: 1, postgresUrl: PG_URL },
  pg3: { label: 'PostgreSQL, 3 servers', servers: 3, postgresUrl: PG_URL },
};
const names = (process.env.BENCH_CONFIGS ?? 'pglite,pg1,pg3').split(',').filter(Boolean);
for (const name of names)
  if (!ALL[name]) throw new Error(`BENCH_CONFIGS: unknown configuration "${name}" (pglite, pg1, pg3)`);

process.on('uncaughtException', (error) => {
  console.error(error);
  void cleanup().finally(() => process.exit(1));
});

const cpu = cpus();
console.log(
  `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} free), ${platform()} ${release()}, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`levels ${LEVELS.join(',')}; ${process.env.BENCH_SECONDS ?? 20} s measured per level`);

let postgres = '';
if (names.some((n) => ALL[n]?.postgresUrl)) {
  try {
    postgres = await postgresVersion(PG_URL);
    console.log(`database: ${postgres} at ${PG_URL.replace(/\/\/[^@]*@/, '//')}`);
  } catch (error) {
    console.log(`PostgreSQL at ${PG_URL} unreachable (${(error as Error).message}): pg1 and pg3 skipped`);
  }
}

type Row = Record<string, unknown>;
const rows: Row[] = [];
const summary: Record<string, unknown> = {};
for (const name of names) {
  const cfg = ALL[name] as Configuration;
  if (cfg.postgresUrl && !postgres) continue;
  const held: number[] = [];
  for (const level of LEVELS) {
    try {
      const row = await runLevel(cfg, level);
      rows.push(row);
      console.log(JSON.stringify(row));
      if ((row.jitterP99Ms as number) < 20 && row.connected === level) held.push(level);
    } catch (error) {
      console.log(JSON.stringify({ config: cfg.label, calls: level, error: (error as Error).message }));
      await cleanup();
    }
  }
  summary[name] = held.length ? Math.max(...held) : 0;
}

// bench:calls from the same run, at the same levels (events counted, not stored).
let benchCalls: Row | undefined;
if (process.env.BENCH_COMPARE !== '0') {
  const out = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('../calls/run.ts', import.meta.url))],
    {
      env: { ...process.env, BENCH_LEVELS: LEVELS.join(',') },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 30 * 60_000,
    },
  );
  for (const line of (out.stdout ?? '').split('\n')) {
    if (line.startsWith('{"calls"')) console.log(`bench:calls ${line}`);
    if (line.startsWith('{"maxCalls')) benchCalls = JSON.parse(line) as Row;
  }
  if (!benchCalls)
    console.log(`bench:calls gave no summary (status ${out.status}, ${out.error?.message ?? 'no error'})`);
}

console.log(
  '\nconfiguration            calls  jitter p99  e2r p50/p99 ms  events/s  MB/call  %core/call  undelivered',
);
for (const r of rows)
  console.log(
    `${String(r.config).padEnd(24)} ${String(r.calls).padStart(5)}  ${String(r.jitterP99Ms).padStart(7)} ms  ${`${r.e2rP50Ms}/${r.e2rP99Ms}`.padStart(14)}  ${String(r.eventsPerSecond).padStart(8)}  ${String(r.rssPerCallMB).padStart(7)}  ${String(r.cpuPerCallPct).padStart(10)}  ${String(r.undelivered).padStart(11)}`,
  );
console.log(
  JSON.stringify({
    maxCallsWithJitterP99Under20ms: summary,
    benchCallsMaxCallsWithJitterP99Under20ms: benchCalls?.maxCallsWithJitterP99Under20ms,
    cores: cpu.length,
  }),
);
await cleanup();
process.exit(0);
