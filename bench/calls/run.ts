/**
 * Call engine benchmark, one command:
 *
 *   node --expose-gc --import tsx bench/calls/run.ts     (BENCH_LEVELS=100,200,300,350,400 BENCH_SECONDS=20)
 *
 * Each level runs in a fresh server process (level.ts): N concurrent web calls over real
 * WebSockets, callers in a separate process sending PCM16 at real-time pace, WebRTC VAD on
 * every frame, fake STT/LLM/TTS with realistic latencies. Prints one JSON line per level and a
 * summary: the most concurrent calls with outgoing frame jitter p99 under 20 ms, memory per
 * call, and the platform's overhead per turn (end of turn → first audio out, minus provider
 * time) p50/p99. BENCH_RAMP=1 runs all levels in one process instead.
 */
import { spawnSync } from 'node:child_process';
import { cpus, platform, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, node ${process.version}`,
);

const LEVELS = (process.env.BENCH_LEVELS ?? '100,200,300,350,400').split(',').map(Number);
const level = fileURLToPath(new URL('./level.ts', import.meta.url));
const args = ['--expose-gc', '--import', 'tsx', level];

type Row = Record<string, number>;
const rows: Row[] = [];
const runs = process.env.BENCH_RAMP === '1' ? [LEVELS.join(',')] : LEVELS.map(String);
for (const levels of runs) {
  const out = spawnSync(process.execPath, args, {
    env: { ...process.env, BENCH_LEVELS: levels },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  for (const line of out.stdout.split('\n')) {
    if (!line.startsWith('{"calls"')) continue;
    const row = JSON.parse(line) as Row;
    rows.push(row);
    console.log(line);
  }
}
const held = rows.filter((r) => (r.jitterP99Ms as number) < 20 && r.connected === r.calls);
const best = held.reduce<Row | undefined>(
  (a, r) => (!a || (r.calls as number) > (a.calls as number) ? r : a),
  undefined,
);
const at100 = rows.find((r) => r.calls === 100);
console.log(
  JSON.stringify({
    maxCallsWithJitterP99Under20ms: best?.calls ?? 0,
    rssPerCallMBAtMax: best?.rssPerCallMB,
    overheadP50MsAt100: at100?.overheadP50Ms,
    overheadP99MsAt100: at100?.overheadP99Ms,
    cores: cpus().length,
  }),
);
