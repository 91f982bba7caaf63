/**
 * One server process of the call benchmark (run.ts starts one per level). N concurrent web
 * calls over real WebSockets, callers in a separate
 * process sending PCM16 frames at real-time pace; WebRTC VAD on every frame; fake STT, LLM and
 * TTS with realistic latencies (STT final 200 ms after end of speech, LLM first token 300 ms
 * then 20 ms per token, TTS first audio 120 ms). Events go to a counting sink (no database:
 * the webhook benchmark measures that side).
 *
 *   node --expose-gc --import tsx bench/calls/level.ts     BENCH_LEVELS=200 BENCH_SECONDS=20
 *
 * With several levels it ramps up within this one process.
 * The callers run at nice 10 (BENCH_NICE=0 to run them at normal priority).
 *
 * Reports per level: outgoing frame jitter (lateness of each paced frame vs its schedule)
 * p50/p99/max, memory per call (RSS and heap growth over the idle baseline / N), the
 * platform's own overhead per turn (end of user turn → first audio frame out, minus the
 * providers' time in it) p50/p99, and the most calls held with jitter p99 under 20 ms.
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { withDefaults } from '../../src/assistants/assistant-defaults.js';
import { CallService } from '../../src/calls/call-service.js';
import type { Db } from '../../src/db/database.js';
import { Pacer } from '../../src/engine/pacer.js';
import type { EngineProviders } from '../../src/engine/providers.js';
import { TtsCache } from '../../src/engine/tts-cache.js';
import { type Clock, systemClock } from '../../src/shared/clock.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { webEntryPoint } from '../../src/transports/web/web-entry-point.js';
import { registerWebSocketSupport } from '../../src/transports/web/websocket-plugin.js';
import { createWebRtcVad } from '../../src/vad/webrtc/index.js';
import type { CallEventSink } from '../../src/webhooks/call-event-sink.js';

const LEVELS = (process.env.BENCH_LEVELS ?? '50,100,150,200,250,300').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);

const hrClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: systemClock.setTimeout,
};

let events = 0;
const sink: CallEventSink = {
  record: async (_ctx, specs) => {
    events += specs.length;
    return [];
  },
  requestToolCalls: async () => new Map(),
  requestAssistant: async () => ({ kind: 'defaults' }),
};

const fakes = fakeProviders({
  clock: hrClock,
  llm: new FakeLlm({
    clock: hrClock,
    firstTokenMs: 300,
    tokenMs: 20,
    respond: () => 'Sure, I can help with that. What else would you like to know today?',
  }),
  stt: { finalLatencyMs: 200, defaultText: 'i would like to book a table for two', partialEveryMs: 0 },
  tts: { firstChunkMs: 120, chunkGenerationMs: 10, msPerChar: 55 },
});
await createWebRtcVad(); // loads the WASM module once
const providers: EngineProviders = { ...fakes, vad: (o) => createWebRtcVad(o) };

const samples: number[] = [];
const pacer = new Pacer(hrClock, 20, () => performance.now());
let baseUrl = '';
const calls = new CallService({
  db: undefined as unknown as Db, // no database in this benchmark
  insertCall: async () => {},
  sink,
  providers,
  publicUrl: () => baseUrl,
  clock: hrClock,
  pacer,
  joinTokenTtlMs: 120_000,
  ttsCache: new TtsCache(0), // every reply is synthesised: measure the providers' real latencies
  onReplyLatency: ({ totalMs, providerMs }) => samples.push(totalMs - providerMs),
});

const app = Fastify();
await registerWebSocketSupport(app);
await webEntryPoint.register(app, calls.entryPointDeps());
await app.listen({ port: 0, host: '127.0.0.1' });
baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

const assistant = withDefaults({
  name: 'bench',
  welcomeMessage: 'Hello! How can I help you today?',
  welcomeMessageInterruptionsEnabled: true,
  assistantProvider: 'openai',
  config: { speech: { stt: { provider: 'fake' }, tts: { provider: 'fake' } } },
  maxDurationSeconds: 3600,
  idleTimeoutSeconds: 600,
  endCallPhrases: [],
});

// The callers stand in for remote clients: they run at a lower priority (nice 10) so that
// their load on this machine's cores does not pass for the server's own.
const clientArgs = ['--import', 'tsx', fileURLToPath(new URL('./clients.ts', import.meta.url))];
const child =
  process.env.BENCH_NICE === '0'
    ? spawn(process.execPath, clientArgs, { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn('nice', ['-n', '10', process.execPath, ...clientArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines: ((line: string) => void)[] = [];
let buffer = '';
child.stdout.on('data', (d: Buffer) => {
  buffer += d.toString();
  for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
    const line = buffer.slice(0, i);
    buffer = buffer.slice(i + 1);
    lines.shift()?.(line);
  }
});
const ask = (msg: unknown) =>
  new Promise<string>((resolve) => {
    lines.push(resolve);
    child.stdin.write(`${JSON.stringify(msg)}\n`);
  });

const pct = (sorted: number[], p: number) =>
  sorted.length
    ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number)
    : Number.NaN;
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const mb = (bytes: number) => bytes / 1024 / 1024;

let gcMaxMs = 0;
let gcTotalMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcTotalMs += entry.duration;
    if (entry.duration > gcMaxMs) gcMaxMs = entry.duration;
  }
}).observe({ entryTypes: ['gc'] });
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

gc();
const base = process.memoryUsage();
const results: Record<string, unknown>[] = [];
let live = 0;
for (const level of LEVELS) {
  const urls: string[] = [];
  for (; live < level; live++) {
    const { join } = await calls.createWebCall('bench', { assistant });
    urls.push(join.url);
  }
  const connected = JSON.parse(await ask({ urls })).connected as number;
  await new Promise((r) => setTimeout(r, 3000)); // settle: welcomes play
  pacer.jitter.reset();
  samples.length = 0;
  loopDelay.reset();
  gcMaxMs = 0;
  gcTotalMs = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  gc();
  const mem = process.memoryUsage();
  const sorted = [...samples].sort((a, b) => a - b);
  const row = {
    calls: level,
    connected,
    jitterP50Ms: +pacer.jitter.percentile(50).toFixed(1),
    jitterP99Ms: +pacer.jitter.percentile(99).toFixed(1),
    jitterMaxMs: +pacer.jitter.max.toFixed(1),
    framesOut: pacer.jitter.count,
    turns: sorted.length,
    overheadP50Ms: +pct(sorted, 50).toFixed(2),
    overheadP99Ms: +pct(sorted, 99).toFixed(2),
    rssPerCallMB: +(mb(mem.rss - base.rss) / level).toFixed(2),
    heapPerCallMB: +(mb(mem.heapUsed + mem.external - base.heapUsed - base.external) / level).toFixed(3),
    serverCpuPercent: +(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(0),
    loopDelayP99Ms: +(loopDelay.percentile(99) / 1e6).toFixed(1),
    gcMaxMs: +gcMaxMs.toFixed(1),
    gcPercent: +((gcTotalMs / wall) * 100).toFixed(1),
  };
  results.push(row);
  console.log(JSON.stringify(row));
}
const held = results
  .filter((r) => (r.jitterP99Ms as number) < 20 && r.connected === r.calls)
  .map((r) => r.calls as number);
console.log(
  JSON.stringify({
    maxCallsWithJitterP99Under20ms: held.length ? Math.max(...held) : 0,
    eventsRecorded: events,
    cores: (await import('node:os')).cpus().length,
  }),
);
child.stdin.write(`${JSON.stringify({ stop: true })}\n`);
await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
child.kill();
await calls.close();
await app.close();
process.exit(0);
