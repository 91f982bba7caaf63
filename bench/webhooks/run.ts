/**
 * Webhook engine benchmark: sustained notifications per second to a local receiver, and
 * event-to-receipt latency at a fixed offered rate, on PGlite and on PostgreSQL.
 *
 *   npm run bench:webhooks            (PostgreSQL from PARLEY_BENCH_DATABASE_URL, default the local one)
 *
 * Each event is recorded as a real call would record it: its own transaction (call state +
 * event + delivery), then dispatched at once to a receiver running in a separate process.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { withDefaults } from '../../src/assistants/assistant-defaults.js';
import { loadConfig } from '../../src/config/config.js';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../../src/db/database.js';
import { newWebCall } from '../../src/engine/call-lifecycle.js';
import { createLogger } from '../../src/logger.js';
import { createParley } from '../../src/server.js';
import { newWebCallId } from '../../src/shared/ids.js';
import { createApiKey } from '../../src/tenancy/api-keys.js';
import type { CallContext } from '../../src/webhooks/events/build-event.js';

const PG_URL = process.env.PARLEY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const THROUGHPUT_EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const CONCURRENT_CALLS = Number(process.env.BENCH_CALLS ?? 200);
const OFFERED_RATE = Number(process.env.BENCH_RATE ?? 1000);
const LATENCY_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

/** CPU time (user + system, ms) of a process, from /proc (Linux). */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = 100;

/** CPU time of every PostgreSQL server process on this machine (0 where /proc has none). */
function postgresCpuMs(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += processCpuMs(Number(pid));
    } catch {}
  }
  return total;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function stats(port: number, reset: boolean): Promise<{ count: number; latencies: number[] }> {
  const res = await fetch(`http://127.0.0.1:${port}/stats${reset ? '?reset=1' : ''}`);
  return (await res.json()) as { count: number; latencies: number[] };
}

function context(teamId: string, url: string): CallContext {
  const spec = withDefaults({ name: 'bench', assistantServer: { url, secret: 'bench-secret' } });
  return {
    call: {
      ...newWebCall({
        id: newWebCallId(),
        teamId,
        assistantId: 'b'.repeat(24),
        userNumber: 'web-bench',
        now: Date.now(),
      }),
      status: 'ongoing',
      phoneCallStatus: 'in-progress',
      phoneCallStatusReason: 'Call is in progress',
    },
    assistant: { ...spec, _id: 'b'.repeat(24) },
    messages: [],
    phoneProvider: '',
  };
}

async function runOne(label: string, database: DatabaseHandle) {
  const receiver = spawn(process.execPath, [join(import.meta.dirname, 'receiver.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = Number(
    await new Promise<string>((resolve) => createInterface({ input: receiver.stdout }).once('line', resolve)),
  );
  const url = `http://127.0.0.1:${port}/hook`;
  // The bench's calls are driven straight through the outbox, not owned by a call service:
  // keep call recovery from treating the idle ones as abandoned while it runs.
  const config = loadConfig({
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
    PARLEY_DATA_DIR: '/nonexistent',
    PARLEY_CALL_HEARTBEAT_MS: '60000',
  });
  const parley = await createParley(config, { database, logger: createLogger('warn') });
  const { team } = await createApiKey(database.db, `bench-${randomBytes(3).toString('hex')}`);

  const waitForCount = async (target: number, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    let total = 0;
    while (Date.now() < until) {
      total = (await stats(port, false)).count;
      if (total >= target) return total;
      await new Promise((r) => setTimeout(r, 20));
    }
    return total;
  };

  // Warm-up (JIT, connection pools, keep-alive sockets).
  await Promise.all(
    Array.from({ length: 20 }, () =>
      parley.outbox.record(context(team.id, url), [{ type: 'status-update' }]),
    ),
  );
  await waitForCount(20, 10_000);
  await stats(port, true);

  // 1. Throughput: CONCURRENT_CALLS calls record events back to back until THROUGHPUT_EVENTS.
  const calls = Array.from({ length: CONCURRENT_CALLS }, () => context(team.id, url));
  const perCall = Math.ceil(THROUGHPUT_EVENTS / CONCURRENT_CALLS);
  const cpuBefore = {
    parley: process.cpuUsage(),
    receiver: processCpuMs(receiver.pid),
    postgres: postgresCpuMs(),
  };
  const started = performance.now();
  await Promise.all(
    calls.map(async (ctx) => {
      for (let i = 0; i < perCall; i++) {
        await parley.outbox.record(ctx, [{ type: 'status-update' }]);
      }
    }),
  );
  const recordedMs = performance.now() - started;
  const total = perCall * CONCURRENT_CALLS;
  const received = await waitForCount(total, 120_000);
  const deliveredMs = performance.now() - started;
  await stats(port, true);
  await parley.dispatcher.flush();
  const parleyCpu = process.cpuUsage(cpuBefore.parley);
  const cpuPerEventUs = {
    parley: Math.round((parleyCpu.user + parleyCpu.system) / received),
    receiver: Math.round(((processCpuMs(receiver.pid) - cpuBefore.receiver) * 1000) / received),
    postgres: Math.round(((postgresCpuMs() - cpuBefore.postgres) * 1000) / received),
  };

  // 2. Latency at a fixed offered rate, spread over 100 calls.
  const latencyCalls = Array.from({ length: 100 }, () => context(team.id, url));
  const n = OFFERED_RATE * LATENCY_SECONDS;
  const t0 = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / OFFERED_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(parley.outbox.record(latencyCalls[i % 100] as CallContext, [{ type: 'status-update' }]));
  }
  await Promise.all(pending);
  const achievedRate = n / ((performance.now() - t0) / 1000);
  await waitForCount(n, 60_000);
  const { latencies } = await stats(port, true);
  latencies.sort((a, b) => a - b);

  await parley.close();
  receiver.kill();
  return {
    label,
    cpuPerEventUs,
    throughput: {
      events: total,
      received,
      concurrentCalls: CONCURRENT_CALLS,
      recordedPerSecond: Math.round(total / (recordedMs / 1000)),
      deliveredPerSecond: Math.round(received / (deliveredMs / 1000)),
    },
    latency: {
      offeredPerSecond: OFFERED_RATE,
      achievedPerSecond: Math.round(achievedRate),
      samples: latencies.length,
      p50Ms: percentile(latencies, 50),
      p90Ms: percentile(latencies, 90),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1],
    },
  };
}

async function main() {
  const cpus = os.cpus();
  console.log(
    `machine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`,
  );
  console.log(
    `load: throughput ${THROUGHPUT_EVENTS} events over ${CONCURRENT_CALLS} concurrent calls; latency at ${OFFERED_RATE}/s for ${LATENCY_SECONDS} s`,
  );
  const results = [];

  const only = process.env.BENCH_ONLY; // 'pglite' or 'postgres' to run one of them
  if (only !== 'postgres') {
    const dir = await mkdtemp(join(os.tmpdir(), 'parley-bench-'));
    const pglite = await openDatabase({ dataDir: dir });
    await migrateToLatest(pglite.db);
    results.push(await runOne('PGlite (embedded)', pglite));
    await rm(dir, { recursive: true, force: true });
  }

  const schema = `bench_${randomBytes(4).toString('hex')}`;
  try {
    if (only === 'pglite') throw new Error('BENCH_ONLY=pglite');
    const pg = await openDatabase({ databaseUrl: PG_URL, schema, poolSize: 10 });
    await migrateToLatest(pg.db, schema);
    const version = await sql<{ v: string }>`select version() as v`.execute(pg.db);
    results.push(await runOne(`PostgreSQL (${version.rows[0]?.v.split(' ').slice(0, 2).join(' ')})`, pg));
    const cleanup = await openDatabase({ databaseUrl: PG_URL, poolSize: 1 });
    await sql`drop schema ${sql.id(schema)} cascade`.execute(cleanup.db);
    await cleanup.close();
  } catch (error) {
    console.log(`PostgreSQL at ${PG_URL} skipped: ${(error as Error).message}`);
  }

  for (const r of results) {
    console.log(`\n${r.label}`);
    console.log(
      `  sustained: ${r.throughput.deliveredPerSecond} events/s delivered end to end (${r.throughput.received}/${r.throughput.events} received; recording alone ${r.throughput.recordedPerSecond}/s)`,
    );
    console.log(
      `  CPU per delivered event: Parley ${r.cpuPerEventUs.parley} µs, PostgreSQL ${r.cpuPerEventUs.postgres} µs, receiver ${r.cpuPerEventUs.receiver} µs (2 cores: ceiling ≈ ${Math.round(2e6 / (r.cpuPerEventUs.parley + r.cpuPerEventUs.postgres + r.cpuPerEventUs.receiver))} events/s)`,
    );
    console.log(
      `  event-to-receipt at ${r.latency.offeredPerSecond}/s offered (${r.latency.achievedPerSecond}/s achieved, ${r.latency.samples} events): p50 ${r.latency.p50Ms} ms, p90 ${r.latency.p90Ms} ms, p99 ${r.latency.p99Ms} ms, max ${r.latency.maxMs} ms`,
    );
  }
  process.exit(0);
}

void main();
