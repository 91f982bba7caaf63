/**
 * One client flooding one call at the per-call limits (issue 11 item 3), on the embedded database
 * (or PostgreSQL with PARLEY_TEST_DATABASE_URL): prints the machine, `/health` latency during the
 * flood and the bytes stored; exits 1 when `/health` p99 misses its 100 ms target.
 *   npm run bench:flood
 */
import { cpus, platform, release, totalmem } from 'node:os';
import {
  describeFlood,
  floodOneCall,
  percentile,
  startFloodServer,
} from '../../test/calls/flood-scenario.js';

const TARGET_P99_MS = 100;
const RUNS = Number(process.env.FLOOD_RUNS ?? 3);

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, node ${process.version}`,
);
console.log(`database: ${process.env.PARLEY_TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite (embedded)'}`);
const server = await startFloodServer();
const all: number[] = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    const r = await floodOneCall(server);
    all.push(...r.healthMs);
    console.log(`run ${run}: ${describeFlood(r)}`);
  }
} finally {
  await server.cs.close();
}
all.sort((a, b) => a - b);
const p99 = percentile(all, 99);
console.log(
  `/health over ${RUNS} runs: n=${all.length} p50=${percentile(all, 50).toFixed(1)} ms p95=${percentile(all, 95).toFixed(1)} ms ` +
    `p99=${p99.toFixed(1)} ms (target < ${TARGET_P99_MS} ms): ${p99 < TARGET_P99_MS ? 'met' : 'MISSED'}`,
);
process.exit(p99 < TARGET_P99_MS ? 0 : 1);
