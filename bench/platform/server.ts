/**
 * One Parley server of the platform benchmark, in its own process (run.ts forks one per
 * server). The whole server as `parley serve` builds it (createParley: HTTP API, web entry
 * point, outbox, webhook dispatcher, call recovery, recordings, live relay on PostgreSQL),
 * configured from the environment like `parley serve`, with two differences: the speech and
 * language providers are the fakes of bench/calls (realistic latencies, no model), and the
 * outgoing-audio pacer measures lateness on the high-resolution clock. VAD is WebRTC's, on
 * every frame.
 *
 * Environment: `parley serve`'s (DATABASE_URL, PARLEY_DATA_DIR, PARLEY_BOOTSTRAP_KEY …) plus
 * BENCH_SCHEMA (PostgreSQL: confine the server to this schema, as the tests do).
 *
 * IPC (run.ts ↔ this process): after listening it sends {ready, url, instance}; it answers
 * {cmd:'reset'} (jitter histogram and CPU baseline), {cmd:'stats'} (jitter, CPU since the
 * reset, memory after a GC), {cmd:'stored'} (the events and webhook deliveries in the database)
 * and {cmd:'close'} (closes the server, then exits).
 */
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/config.js';
import { migrateToLatest, openDatabase } from '../../src/db/database.js';
import { Pacer } from '../../src/engine/pacer.js';
import type { EngineProviders } from '../../src/engine/providers.js';
import { TtsCache } from '../../src/engine/tts-cache.js';
import { createLogger } from '../../src/logger.js';
import { createParley } from '../../src/server.js';
import { type Clock, systemClock } from '../../src/shared/clock.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { createWebRtcVad } from '../../src/vad/webrtc/index.js';

if (!process.send) throw new Error('bench/platform/server.ts runs as a forked child of run.ts');
const send = (msg: unknown) => process.send?.(msg);

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

const config = loadConfig(process.env);
const logger = createLogger(config.logLevel);
const schema = process.env.BENCH_SCHEMA || undefined;
const database = await openDatabase({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
  schema: config.databaseUrl ? schema : undefined,
  poolSize: Number(process.env.BENCH_POOL_SIZE ?? 10),
  onConnectionError: (err) => logger.warn({ err }, 'database connection lost'),
});
await migrateToLatest(database.db, config.databaseUrl ? schema : undefined);

const pacer = new Pacer(hrClock, 20, () => performance.now());
let baseUrl = '';
const parley = await createParley(config, {
  database,
  logger,
  providers,
  admin: false,
  calls: {
    publicUrl: () => baseUrl,
    clock: hrClock,
    pacer,
    joinTokenTtlMs: 300_000,
    ttsCache: new TtsCache(0), // every reply is synthesised, as in bench/calls
  },
});
await parley.app.listen({ port: 0, host: '127.0.0.1' });
baseUrl = `http://127.0.0.1:${(parley.app.server.address() as AddressInfo).port}`;

const gc = () => (globalThis as { gc?: () => void }).gc?.();
let cpu0 = process.cpuUsage();
let t0 = performance.now();

process.on('message', (raw) => {
  const msg = raw as { cmd?: string; id?: number };
  const reply = (body: object) => send({ id: msg.id, ...body });
  if (msg.cmd === 'reset') {
    pacer.jitter.reset();
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    reply({ ok: true });
  } else if (msg.cmd === 'stats') {
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    gc();
    const mem = process.memoryUsage();
    reply({
      jitterP50Ms: pacer.jitter.percentile(50),
      jitterP99Ms: pacer.jitter.percentile(99),
      jitterMaxMs: pacer.jitter.max,
      framesOut: pacer.jitter.count,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
      rss: mem.rss,
      heap: mem.heapUsed + mem.external,
      pacedOutputs: pacer.size,
    });
  } else if (msg.cmd === 'stored') {
    // What the database holds (all servers share it): events and their deliveries by status.
    Promise.all([
      database.db
        .selectFrom('call_events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirst(),
      database.db
        .selectFrom('webhook_deliveries')
        .select(['event_id', 'status'])
        .where('replay_of', 'is', null)
        .execute(),
    ]).then(
      ([events, deliveries]) =>
        reply({
          events: Number(events?.n ?? 0),
          deliveries: deliveries.map((d) => [d.event_id, d.status]),
        }),
      (err: unknown) => reply({ error: String(err) }),
    );
  } else if (msg.cmd === 'close') {
    const hardStop = setTimeout(() => process.exit(1), 20_000);
    hardStop.unref();
    parley
      .close()
      .catch((err: unknown) => logger.error({ err }, 'close failed'))
      .finally(() => {
        reply({ closed: true });
        setTimeout(() => process.exit(0), 50);
      });
  }
});
// The parent went away (crash, Ctrl-C): do not outlive it.
process.on('disconnect', () => process.exit(0));
send({ ready: true, url: baseUrl, instance: parley.instance });
