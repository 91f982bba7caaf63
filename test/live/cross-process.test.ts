import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { EventMessage } from '../../src/contract/event-schemas.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { channelOf } from '../../src/live/pg-live-relay.js';
import { createLogger } from '../../src/logger.js';
import { createParley, type Parley } from '../../src/server.js';
import { createApiKey } from '../../src/tenancy/api-keys.js';
import { fakeProviders } from '../../src/testing/fake-providers.js';
import type { EventSpec } from '../../src/webhooks/events/build-event.js';
import { callContext, lifecycle } from '../support/call-context.js';
import { createTestDatabase, type TestDatabase, testDatabaseUrl } from '../support/test-database.js';
import { startTestServer } from '../support/test-server.js';
import { SseClient } from './sse-client.js';

/**
 * The live event stream across Parley processes sharing one PostgreSQL database: two Parley
 * instances (two `createParley`, two pools, two LISTEN connections) on the same schema stand for
 * two processes. Events recorded on A reach a subscriber of B's `GET /v1/events/stream`.
 */
const SKIP_REASON = 'needs PostgreSQL: set PARLEY_TEST_DATABASE_URL (PGlite is one process)';

interface Instance {
  parley: Parley;
  database: DatabaseHandle;
  baseUrl: string;
  logs: string[];
}

let dataDir: string;
let testDatabase: TestDatabase;
let a: Instance;
let b: Instance;
let one: { key: string; teamId: string };
let two: { key: string; teamId: string };
const open: SseClient[] = [];

async function instance(): Promise<Instance> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_LOG_LEVEL: 'debug',
    PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
  });
  const database = await testDatabase.open();
  const parley = await createParley(config, {
    database,
    logger: createLogger(config.logLevel, sink),
    providers: fakeProviders(),
    liveRelay: { connectionString: testDatabaseUrl as string },
  });
  await parley.app.listen({ port: 0, host: '127.0.0.1' });
  const address = parley.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { parley, database, baseUrl: `http://127.0.0.1:${port}`, logs };
}

async function subscribe(on: Instance, key: string, query = ''): Promise<SseClient> {
  const client = await SseClient.open(`${on.baseUrl}/v1/events/stream${query}`, key);
  expect(client.status).toBe(200);
  open.push(client);
  return client;
}

/** The JSON a subscriber receives of a recorded message. */
const wire = (m: EventMessage) => JSON.parse(JSON.stringify(m));

/** Records whole call lifecycles on `on`, the calls concurrently, each step its own record(). */
async function recordCalls(on: Instance, teamId: string, calls: number): Promise<EventMessage[][]> {
  return Promise.all(
    Array.from({ length: calls }, async () => {
      const ctx = callContext(teamId, {});
      const recorded: EventMessage[] = [];
      for (const step of lifecycle(ctx))
        recorded.push(...(await on.parley.outbox.record(ctx, step() as EventSpec[])));
      return recorded;
    }),
  );
}

describe.skipIf(!testDatabaseUrl)(`live events across processes (${SKIP_REASON})`, () => {
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-cross-'));
    testDatabase = await createTestDatabase(dataDir);
    a = await instance();
    b = await instance();
    const k1 = await createApiKey(a.database.db, 'team-one');
    const k2 = await createApiKey(a.database.db, 'team-two');
    one = { key: k1.key, teamId: k1.team.id };
    two = { key: k2.key, teamId: k2.team.id };
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await a?.parley.close();
    await b?.parley.close();
    await testDatabase?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('uses one channel per schema, and LISTENs only while someone is subscribed', async () => {
    const relay = b.parley.liveRelay;
    expect(relay).toBeDefined();
    expect(relay?.channel).toMatch(/^parley_events\.t_[0-9a-f]{12}$/);
    expect(relay?.channel).toBe(a.parley.liveRelay?.channel);
    expect(channelOf('public')).toBe('parley_events');
    expect(Buffer.byteLength(channelOf('s'.repeat(63)))).toBeLessThanOrEqual(63);
    expect(relay?.listening).toBe(false);
    const stream = await subscribe(b, one.key);
    await vi.waitFor(() => expect(relay?.listening).toBe(true));
    await stream.close();
    await vi.waitFor(() => expect(relay?.listening).toBe(false));
  });

  it("B's subscriber gets A's events in sequence order, same ids and payloads; A's gets each once", async () => {
    const onB = await subscribe(b, one.key);
    const onA = await subscribe(a, one.key);
    await vi.waitFor(() => expect(b.parley.liveRelay?.listening).toBe(true));
    const before = { ...(b.parley.liveRelay?.stats ?? { fetches: 0 }) };
    const calls = await recordCalls(a, one.teamId, 6);
    const all = calls.flat();
    await onB.waitFor(() => onB.events.length >= all.length, 15_000, `${all.length} events on B`);
    await onA.waitFor(() => onA.events.length >= all.length, 15_000, `${all.length} events on A`);
    // Time for any duplicate (or stray) to arrive.
    await new Promise((r) => setTimeout(r, 300));
    for (const stream of [onB, onA]) {
      expect(stream.events).toHaveLength(all.length);
      const got = stream.json();
      for (const recorded of calls) {
        const callId = recorded[0]?.call.id;
        const mine = got.filter((e) => e.callId === callId);
        // Per call: arrival order is sequence order, with the recorded ids and bodies.
        expect(mine.map((e) => e.sequence)).toEqual(recorded.map((_, i) => i + 1));
        expect(mine.map((e) => e.event)).toEqual(recorded.map(wire));
      }
      expect(new Set(stream.events.map((e) => e.id)).size).toBe(all.length);
      expect(new Set(stream.events.map((e) => e.id))).toEqual(new Set(all.map((m) => m.id)));
    }
    // Notifications that close together are fetched together: fewer queries than events.
    const fetches = (b.parley.liveRelay?.stats.fetches ?? 0) - before.fetches;
    expect(fetches).toBeGreaterThan(0);
    expect(fetches).toBeLessThan(all.length);
  });

  it("another team's subscriber on B gets nothing of it", async () => {
    const mine = await subscribe(b, one.key);
    const theirs = await subscribe(b, two.key);
    await vi.waitFor(() => expect(b.parley.liveRelay?.listening).toBe(true));
    const [ours] = await recordCalls(a, one.teamId, 1);
    await mine.waitFor(() => mine.events.length >= (ours?.length ?? 0));
    // The other team's own call comes after ours: its events arriving proves the stream was
    // live while ours were relayed, and nothing of ours came before them.
    const [their] = await recordCalls(a, two.teamId, 1);
    await theirs.waitFor(() => theirs.events.length >= (their?.length ?? 0));
    await new Promise((r) => setTimeout(r, 200));
    expect(theirs.json().map((e) => e.event)).toEqual(their?.map(wire));
    expect(mine.json().map((e) => e.event)).toEqual(ours?.map(wire));
  });

  it("?callId= on B narrows to that call of A's", async () => {
    const ctx = callContext(one.teamId, {});
    const narrow = await subscribe(b, one.key, `?callId=${encodeURIComponent(ctx.call.id)}`);
    const wide = await subscribe(b, one.key);
    await vi.waitFor(() => expect(b.parley.liveRelay?.listening).toBe(true));
    const [other] = await recordCalls(a, one.teamId, 1);
    const recorded: EventMessage[] = [];
    for (const step of lifecycle(ctx))
      recorded.push(...(await a.parley.outbox.record(ctx, step() as EventSpec[])));
    await wide.waitFor(() => wide.events.length >= recorded.length + (other?.length ?? 0));
    await narrow.waitFor(() => narrow.events.length >= recorded.length);
    expect(narrow.json().map((e) => e.event)).toEqual(recorded.map(wire));
  });

  it('fetches nothing for events no subscriber of B wants', async () => {
    const theirs = await subscribe(b, two.key);
    const relay = b.parley.liveRelay;
    await vi.waitFor(() => expect(relay?.listening).toBe(true));
    const before = { ...(relay?.stats ?? { notices: 0, unwanted: 0, fetches: 0 }) };
    const [ours] = await recordCalls(a, one.teamId, 1);
    const n = ours?.length ?? 0;
    await vi.waitFor(() => expect((relay?.stats.unwanted ?? 0) - before.unwanted).toBe(n));
    expect((relay?.stats.notices ?? 0) - before.notices).toBe(n);
    expect(relay?.stats.fetches).toBe(before.fetches);
    expect(theirs.events).toEqual([]);
  });

  it("recovers after B's LISTEN connection is killed: later events still arrive", async () => {
    const stream = await subscribe(b, one.key);
    const relay = b.parley.liveRelay;
    await vi.waitFor(() => expect(relay?.listening).toBe(true));
    const pid = relay?.listenerPid;
    expect(pid).toBeTypeOf('number');
    const { rows } = await sql<{ ok: boolean }>`select pg_terminate_backend(${pid}) as ok`.execute(
      a.database.db,
    );
    expect(rows[0]?.ok).toBe(true);
    await vi.waitFor(() => expect(b.logs.join('')).toContain('LISTEN connection lost'), { timeout: 5_000 });
    await vi.waitFor(
      () => {
        expect(relay?.listenerPid).toBeTypeOf('number');
        expect(relay?.listenerPid).not.toBe(pid);
        expect(relay?.listening).toBe(true);
      },
      { timeout: 10_000 },
    );
    expect(b.logs.join('')).toContain('LISTEN connection restored');
    const [after] = await recordCalls(a, one.teamId, 1);
    await stream.waitFor(
      () => stream.events.length >= (after?.length ?? 0),
      15_000,
      'events after reconnect',
    );
    expect(stream.json().map((e) => e.event)).toEqual(after?.map(wire));
  });

  it('closing the server closes its LISTEN connection', async () => {
    const extra = await instance();
    const pid = extra.parley.liveRelay?.listenerPid;
    expect(pid).toBeTypeOf('number');
    await extra.parley.close();
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_stat_activity where pid = ${pid}`.execute(a.database.db);
    expect(rows[0]?.n).toBe(0);
  });
});

describe.skipIf(testDatabaseUrl)('live events on PGlite', () => {
  it('has no cross-process relay: the in-process hub alone, as before', async () => {
    const server = await startTestServer({}, {}, { providers: fakeProviders() });
    try {
      expect(server.database.kind).toBe('pglite');
      expect(server.parley.liveRelay).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
