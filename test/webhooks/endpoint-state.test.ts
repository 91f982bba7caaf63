import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { createParley, type Parley } from '../../src/server.js';
import { createApiKey } from '../../src/tenancy/api-keys.js';
import { fakeProviders } from '../../src/testing/fake-providers.js';
import type { CallContext } from '../../src/webhooks/events/build-event.js';
import { callContext } from '../support/call-context.js';
import { createTestDatabase, type TestDatabase, testDatabaseUrl } from '../support/test-database.js';
import { useReceivers } from '../support/webhook-receiver.js';

/**
 * Endpoint state (disabled by a `410 Gone`, enabled again) shared by two servers on one
 * database. PostgreSQL: two `createParley`, two pools, two LISTEN connections on one schema (two
 * processes). PGlite: two `createParley` on one database handle (two instances in one process).
 * Neither sweeps on a timer during the test (60 s), so what moves is what they were told.
 */
let dataDir: string;
let testDatabase: TestDatabase;
let a: Parley;
let b: Parley;
let key: string;
let teamId: string;
const receiver = useReceivers();
/** How long a server may take to hear of the other's change. */
const HEAR_MS = 3_000;

async function server(database: DatabaseHandle): Promise<Parley> {
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_LOG_LEVEL: 'error',
    PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
  });
  return createParley(config, {
    database,
    logger: createLogger(config.logLevel),
    providers: fakeProviders(),
    admin: false,
    dispatcher: { retryDelayScale: 0.001, sweepIntervalMs: 60_000, orderingHoldMs: 1_000, leaseMs: 3_000 },
    ...(testDatabaseUrl ? { liveRelay: { connectionString: testDatabaseUrl } } : {}),
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'parley-endpoints-'));
  testDatabase = await createTestDatabase(dataDir);
  const first = await testDatabase.open();
  a = await server(first);
  // PGlite is one process: the second instance shares the handle (closed once, by `a`).
  b = await server(testDatabaseUrl ? await testDatabase.open() : { ...first, close: async () => {} });
  const created = await createApiKey(a.database.db, 'endpoints');
  key = created.key;
  teamId = created.team.id;
});

afterAll(async () => {
  await b?.close();
  await a?.close();
  await testDatabase?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const ctxFor = (url: string): CallContext => callContext(teamId, { assistantServer: { url } });

const api = (on: Parley, method: 'GET' | 'POST', url: string, payload?: unknown) =>
  on.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}` },
    ...(payload ? { payload } : {}),
  });

interface Delivery {
  id: string;
  sequence: number;
  status: string;
  attemptCount: number;
  lastError: string | null;
}

/** The call's deliveries, in sequence order. */
async function deliveriesOf(ctx: CallContext): Promise<Delivery[]> {
  const res = await api(a, 'GET', `/v1/webhook-deliveries?callId=${ctx.call.id}`);
  return (res.json().data as Delivery[]).sort((x, y) => x.sequence - y.sequence);
}

/** A receiver that answers its first event `410 Gone`, and the endpoint disabled by it on `a`. */
async function goneOnA() {
  const r = await receiver();
  r.respond = (_e, i) => (i === 0 ? { status: 410 } : undefined);
  await a.outbox.record(ctxFor(r.url), [{ type: 'status-update' }]);
  await r.waitFor(() => r.events.length === 1, 5_000, 'the 410');
  await expect.poll(() => a.dispatcher.isEndpointDisabled(teamId, r.url), { timeout: HEAR_MS }).toBe(true);
  return r;
}

/** Records an event of the call on `on` and waits until it is held: pending, never attempted. */
async function recordHeld(on: Parley, ctx: CallContext): Promise<void> {
  const [event] = await on.outbox.record(ctx, [{ type: 'status-update' }]);
  const held = async () => (await deliveriesOf(ctx)).find((d) => d.sequence === event?.sequence);
  await expect.poll(async () => (await held())?.lastError, { timeout: 5_000 }).toMatch(/held/);
  expect(await held()).toMatchObject({ status: 'pending', attemptCount: 0 });
}

describe(`endpoint state shared by two servers (${testDatabaseUrl ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('a 410 seen by A disables the endpoint on B: B holds its deliveries instead of attempting them', async () => {
    const r = await goneOnA();
    await expect.poll(() => b.dispatcher.isEndpointDisabled(teamId, r.url), { timeout: HEAR_MS }).toBe(true);
    await recordHeld(b, ctxFor(r.url));
    expect(r.events).toHaveLength(1);
    const endpoints = (await api(b, 'GET', '/v1/webhook-endpoints')).json().data;
    expect(endpoints).toContainEqual(
      expect.objectContaining({ url: r.url, reason: expect.stringMatching(/410/) }),
    );
  });

  it('re-enabling through B resumes delivery from A: held deliveries in order, new ones at once', async () => {
    const r = await goneOnA();
    const call = ctxFor(r.url);
    await recordHeld(a, call);
    await recordHeld(a, call);
    const stale = ctxFor(r.url);
    await recordHeld(a, stale);
    // Held beyond the retry horizon: given up when the endpoint comes back.
    await sql`update webhook_deliveries set created_at = now() - interval '73 hours'
      where call_id = ${stale.call.id}`.execute(a.database.db);

    const enabled = await api(b, 'POST', '/v1/webhook-endpoints/enable', { url: r.url });
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json()).toEqual({ url: r.url, enabled: true, resumed: 2 });
    await r.waitFor(() => r.events.length === 3, 5_000, 'the held deliveries');
    expect(r.events.slice(1).map((e) => [e.message.call.id, e.message.sequence])).toEqual([
      [call.call.id, 1],
      [call.call.id, 2],
    ]);
    expect((await deliveriesOf(stale))[0]).toMatchObject({
      status: 'failed',
      lastError: expect.stringMatching(/^gave up after 72 h/),
    });

    await expect.poll(() => a.dispatcher.isEndpointDisabled(teamId, r.url), { timeout: HEAR_MS }).toBe(false);
    const next = ctxFor(r.url);
    await a.outbox.record(next, [{ type: 'status-update' }]);
    await r.waitFor(() => r.events.length === 4, 5_000, 'a new delivery from A');
    expect(r.events[3]?.message.call.id).toBe(next.call.id);
    await expect
      .poll(async () => (await deliveriesOf(next))[0], { timeout: 5_000 })
      .toMatchObject({ status: 'delivered', attemptCount: 1 });
    const onB = ctxFor(r.url);
    await b.outbox.record(onB, [{ type: 'status-update' }]);
    await r.waitFor(() => r.events.length === 5, 5_000, 'a new delivery from B');
    expect(r.events[4]?.message.call.id).toBe(onB.call.id);
    expect(r.events.every((e) => e.answered === (e === r.events[0] ? 410 : 200))).toBe(true);
  });

  it('replaying a delivery to a disabled endpoint enables it everywhere', async () => {
    const r = await goneOnA();
    const gone = (await api(a, 'GET', '/v1/webhook-deliveries?limit=100'))
      .json()
      .data.find((d: { url: string }) => d.url === r.url);
    const replay = await api(b, 'POST', `/v1/webhook-deliveries/${gone.id}/replay`);
    expect(replay.statusCode).toBe(202);
    await r.waitFor(() => r.events.length === 2, 5_000, 'the replay');
    await expect.poll(() => a.dispatcher.isEndpointDisabled(teamId, r.url), { timeout: HEAR_MS }).toBe(false);
  });

  it('one instance identity per server: /health, call owner, delivery leases, live relay', async () => {
    const healthA = (await a.app.inject({ method: 'GET', url: '/health' })).json();
    const healthB = (await b.app.inject({ method: 'GET', url: '/health' })).json();
    expect(healthA.instance).toMatch(/^inst_[0-9a-f]{32}$/);
    expect(healthA.instance).toBe(a.instance);
    expect(healthB.instance).toBe(b.instance);
    expect(healthA.instance).not.toBe(healthB.instance);
    expect(a.dispatcher.owner).toBe(a.instance);
    if (testDatabaseUrl) expect(a.liveRelay?.origin).toBe(a.instance);
    const call = await api(b, 'POST', '/v1/calls', { assistant: { name: 'identity' } });
    expect(call.statusCode).toBe(201);
    const row = await a.database.db
      .selectFrom('calls')
      .select('owner')
      .where('id', '=', call.json().id)
      .executeTakeFirstOrThrow();
    expect(row.owner).toBe(b.instance);
  });
});
