import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.js';
import { LiveEventHub } from '../../src/live/live-events.js';
import { PgLiveRelay } from '../../src/live/pg-live-relay.js';
import { createTestDatabase, type TestDatabase, testDatabaseUrl } from '../support/test-database.js';

/**
 * Signals (rare shared-state changes, such as a webhook endpoint disabled or enabled) between
 * the relays of two processes on one schema: always LISTENed, never echoed to the sender, and
 * a reconnection tells every listener, since signals sent meanwhile were missed.
 */
const SKIP_REASON = 'needs PostgreSQL: set PARLEY_TEST_DATABASE_URL (PGlite is one process)';

let dataDir: string;
let testDatabase: TestDatabase;
const databases: DatabaseHandle[] = [];
const relays: PgLiveRelay[] = [];

async function relay(origin: string, reconnectMs = 50): Promise<PgLiveRelay> {
  const database = await testDatabase.open();
  databases.push(database);
  const started = await PgLiveRelay.start({
    db: database.db,
    hub: new LiveEventHub(() => {}),
    logger: pino({ level: 'silent' }),
    connectionString: testDatabaseUrl,
    origin,
    reconnectMs,
  });
  relays.push(started);
  return started;
}

describe.skipIf(!testDatabaseUrl)(`signals between processes (${SKIP_REASON})`, () => {
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-signals-'));
    testDatabase = await createTestDatabase(dataDir);
  });

  afterAll(async () => {
    for (const r of relays) await r.close();
    for (const d of databases) await d.close();
    await testDatabase?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('reach the other process without any subscriber, on a channel of their own; not the sender', async () => {
    const a = await relay('inst_a');
    const b = await relay('inst_b');
    expect(a.origin).toBe('inst_a');
    expect(b.controlChannel).toMatch(/^parley_control\.t_[0-9a-f]{12}$/);
    expect(b.listening).toBe(false);
    const heardByA = vi.fn();
    const heardByB = vi.fn();
    const otherTopic = vi.fn();
    a.onSignal('webhook-endpoints', heardByA);
    b.onSignal('webhook-endpoints', heardByB);
    b.onSignal('something-else', otherTopic);
    await vi.waitFor(() => expect(b.listenerPid).toBeTypeOf('number'));
    // The LISTEN is queued after connecting: a signal is heard once it has taken effect.
    await vi.waitFor(
      async () => {
        await a.signal('webhook-endpoints');
        expect(heardByB).toHaveBeenCalled();
      },
      { timeout: 5_000, interval: 100 },
    );
    // (Listeners are also called when a connection opens; from now on only by signals.)
    vi.clearAllMocks();
    await a.signal('webhook-endpoints');
    await vi.waitFor(() => expect(heardByB).toHaveBeenCalled());
    expect(heardByA).not.toHaveBeenCalled();
    expect(otherTopic).not.toHaveBeenCalled();
  });

  it('a signal sent while the LISTEN connection is down is made up for when it is back', async () => {
    const a = await relay('inst_c');
    const b = await relay('inst_d', 1_000);
    const heard = vi.fn();
    b.onSignal('webhook-endpoints', heard);
    await vi.waitFor(() => expect(b.listenerPid).toBeTypeOf('number'));
    const pid = b.listenerPid;
    const [database] = databases;
    await sql`select pg_terminate_backend(${pid})`.execute(
      database?.db as NonNullable<typeof database>['db'],
    );
    await vi.waitFor(() => expect(b.listenerPid).toBeUndefined(), { timeout: 5_000 });
    heard.mockClear();
    await a.signal('webhook-endpoints');
    await vi.waitFor(() => expect(b.listenerPid).toBeTypeOf('number'), { timeout: 5_000 });
    expect(b.listenerPid).not.toBe(pid);
    await vi.waitFor(() => expect(heard).toHaveBeenCalledTimes(1), { timeout: 5_000 });
  });
});
