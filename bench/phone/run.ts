/**
 * Phone call benchmark (issue 14, performance): N concurrent inbound calls in Twilio's dialect
 * in one process against the real server (HTTP API, the phone entry point, admission and the
 * embedded database, the webhook outbox), each carried by the Twilio simulator: a signed
 * webhook, then its media client on a real WebSocket sending 20 ms µ-law frames at real-time
 * pace (1.2 s of speech, 4.8 s of silence, in a loop) and playing what Parley sends at 1×.
 * WebRTC VAD runs on every caller frame; STT, LLM and TTS are the fake providers of
 * bench/calls (STT final 200 ms after end of speech, LLM first token 300 ms then 20 ms per
 * token, TTS first audio 120 ms).
 *
 *   npm run bench:phone                     (BENCH_LEVELS=50,100,200,300 BENCH_SECONDS=20)
 *   DATABASE_URL=postgres://… npm run bench:phone    (PostgreSQL instead of the embedded PGlite)
 *
 * Per level (ramped up within the one process): outgoing frame jitter p50/p99/max as
 * bench/calls measures it (lateness of each paced frame vs its schedule, in the server), the
 * same seen by the callers (inter-arrival of the server's `media` messages minus 20 ms, absolute),
 * memory per call (RSS and heap growth over the idle baseline / N: the callers run in this
 * process too, lean: they keep no messages nor heard audio), CPU, event-loop delay. The last
 * line: the most calls held with jitter p99 under 20 ms. The machine is printed first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/config.js';
import { Pacer } from '../../src/engine/pacer.js';
import type { EngineProviders } from '../../src/engine/providers.js';
import { createLogger } from '../../src/logger.js';
import { createParley } from '../../src/server.js';
import { type Clock, systemClock } from '../../src/shared/clock.js';
import { createApiKey } from '../../src/tenancy/api-keys.js';
import type { SimulatedMedia } from '../../src/testing/carriers/simulator.js';
import { createTwilioSimulator } from '../../src/testing/carriers/twilio/simulator.js';
import { FakeLlm, fakeProviders, toneSecond } from '../../src/testing/fake-providers.js';
import { createWebRtcVad } from '../../src/vad/webrtc/index.js';

const LEVELS = (process.env.BENCH_LEVELS ?? '50,100,200,300').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const NUMBER = '+14155550100';

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, node ${process.version}`,
);

const hrClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: systemClock.setTimeout,
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

const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-phone-'));
const config = loadConfig({
  PARLEY_DATA_DIR: dataDir,
  PARLEY_LOG_LEVEL: 'warn',
  PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1', // the simulator's REST API is on 127.0.0.1
  // PostgreSQL when set (the embedded PGlite runs its queries on this process's thread).
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
});
const quiet = new Writable({ write: (_chunk, _enc, done) => done() });
const logger = createLogger(config.logLevel, quiet);
const pacer = new Pacer(hrClock, 20, () => performance.now());
let baseUrl = '';
const parley = await createParley(config, {
  logger,
  providers,
  calls: { publicUrl: () => baseUrl, clock: hrClock, pacer },
});
await parley.app.listen({ port: 0, host: '127.0.0.1' });
const address = parley.app.server.address();
baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

const { key } = await createApiKey(parley.database.db, 'bench');
async function api(method: string, path: string, body: unknown) {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Caller-side lateness: |inter-arrival of `media` messages − 20 ms|, while audio flows. */
const arrivals = new Map<string, number>();
let lateness: number[] = [];
const sim = createTwilioSimulator({
  media: {
    retain: false,
    onMessage: (callSid, event, atMs) => {
      if (event !== 'media') return;
      const last = arrivals.get(callSid);
      arrivals.set(callSid, atMs);
      // A gap over 100 ms is between two replies, not jitter.
      if (last !== undefined && atMs - last < 100) lateness.push(Math.abs(atMs - last - 20));
    },
  },
});
await sim.start();
const assistant = await api('POST', '/v1/assistants', {
  name: 'bench',
  welcomeMessage: 'Hello! How can I help you today?',
  welcomeMessageInterruptionsEnabled: true,
  assistantProvider: 'openai',
  config: { speech: { stt: { provider: 'fake' }, tts: { provider: 'fake' } } },
  maxDurationSeconds: 3600,
  idleTimeoutSeconds: 600,
  endCallPhrases: [],
  recordingEnabled: false,
});
const line = await api('POST', '/v1/phone-numbers', {
  number: NUMBER,
  provider: 'twilio',
  credentials: sim.credentials,
  apiBaseUrl: sim.apiBaseUrl,
  assistantId: assistant._id,
});
const inboundUrl = (line.carrierSetup as { inboundUrl: string }).inboundUrl;

const speech = toneSecond(8000).subarray(0, 9600); // 1.2 s
let running = true;
/** One caller: speaks 1.2 s, then is silent 4.8 s, in a loop, starting at a random point. */
async function caller(media: SimulatedMedia): Promise<void> {
  await media.silence(Math.floor(Math.random() * 6000));
  while (running) {
    await media.speak(speech, 8000);
    await media.silence(4800);
  }
}

const pct = (sorted: number[], p: number) =>
  sorted.length
    ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number)
    : Number.NaN;
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const mb = (bytes: number) => bytes / 1024 / 1024;
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

gc();
const base = process.memoryUsage();
const medias: SimulatedMedia[] = [];
const callers: Promise<void>[] = [];
const results: Record<string, number>[] = [];
let from = 14_155_560_000;
for (const level of LEVELS) {
  while (medias.length < level) {
    const answered = await sim.callIn({ inboundUrl, from: `+${from++}`, to: NUMBER });
    if (!answered.media) throw new Error(`call ${medias.length + 1}: ${answered.status} ${answered.body}`);
    medias.push(answered.media);
    callers.push(caller(answered.media));
  }
  await new Promise((r) => setTimeout(r, 3000)); // settle: welcomes play
  pacer.jitter.reset();
  lateness = [];
  loopDelay.reset();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  gc();
  const mem = process.memoryUsage();
  const seen = [...lateness].sort((a, b) => a - b);
  const open = medias.filter((m) => (m as { isOpen?: boolean }).isOpen).length;
  const row = {
    calls: level,
    connected: open,
    jitterP50Ms: +pacer.jitter.percentile(50).toFixed(1),
    jitterP99Ms: +pacer.jitter.percentile(99).toFixed(1),
    jitterMaxMs: +pacer.jitter.max.toFixed(1),
    framesOut: pacer.jitter.count,
    callerJitterP50Ms: +pct(seen, 50).toFixed(1),
    callerJitterP99Ms: +pct(seen, 99).toFixed(1),
    rssPerCallMB: +(mb(mem.rss - base.rss) / level).toFixed(2),
    heapPerCallMB: +(mb(mem.heapUsed + mem.external - base.heapUsed - base.external) / level).toFixed(3),
    cpuPercent: +(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(0),
    loopDelayP99Ms: +(loopDelay.percentile(99) / 1e6).toFixed(1),
  };
  results.push(row);
  console.log(JSON.stringify(row));
}
const held = results.filter((r) => (r.jitterP99Ms as number) < 20).map((r) => r.calls as number);
console.log(
  JSON.stringify({
    maxCallsWithJitterP99Under20ms: held.length ? Math.max(...held) : 0,
    cores: cpus().length,
  }),
);
running = false;
for (const media of medias) await media.hangUp().catch(() => undefined);
await Promise.allSettled(callers);
await sim.close();
await parley.close();
await rm(dataDir, { recursive: true, force: true });
process.exit(0);
