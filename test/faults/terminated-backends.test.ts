import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { isTransientDbError } from '../../src/db/transient-error.js';
import { testDatabaseUrl } from '../support/test-database.js';
import {
  alive,
  apiOf,
  expectCallComplete,
  needsPostgres,
  scriptedAssistant,
  skipReason,
  startTwoServers,
  TextCall,
  until,
} from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe.skipIf(needsPostgres)(`terminated database backends (${skipReason})`, () => {
  it('a pool survives the termination of its idle and checked-out connections', async () => {
    const errors: Error[] = [];
    const handle = await openDatabase({
      databaseUrl: testDatabaseUrl,
      poolSize: 3,
      onConnectionError: (error) => errors.push(error),
    });
    cleanups.push(() => handle.close());
    const admin = new pg.Client({ connectionString: testDatabaseUrl });
    await admin.connect();
    cleanups.push(() => admin.end());
    const pidOf = async (db: typeof handle.db) =>
      (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]?.pid as number;
    // One connection checked out (a transaction between two statements), one idle in the pool.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let txPid = 0;
    const inTx = handle.db
      .transaction()
      .execute(async (tx) => {
        txPid = await pidOf(tx);
        await held;
        await sql`select 1`.execute(tx);
      })
      .catch((error: unknown) => error);
    await until(() => txPid !== 0, 5_000, 'the transaction');
    const idlePid = await pidOf(handle.db);
    await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [[txPid, idlePid]]);
    await until(() => errors.length >= 2, 5_000, 'both connection errors reported');
    release();
    expect(await inTx).toBeInstanceOf(Error);
    // The pool replaces them. A statement that lands on a connection whose termination is still
    // on its way fails once with a transient error (its caller retries); then statements work.
    let pid = 0;
    const failures: unknown[] = [];
    await until(
      async () => {
        try {
          pid = await pidOf(handle.db);
          return true;
        } catch (error) {
          failures.push(error);
          return false;
        }
      },
      5_000,
      'a working connection',
    );
    expect(failures.every(isTransientDbError)).toBe(true);
    expect(failures.length).toBeLessThanOrEqual(1);
    expect([txPid, idlePid]).not.toContain(pid);
  });

  it('two servers survive every backend being terminated mid-call and mid-delivery; no event is lost', async () => {
    const { database, receiver, a, b } = await startTwoServers(1000, cleanups);
    // Deliveries take a while: terminations land while attempts and their results are in flight.
    receiver.respond = () => ({ status: 200, delayMs: 100 });
    const servers = [a, b];
    for (const server of servers) cleanups.push(() => server.stop());
    const assistant = await apiOf(a.url, 'POST', '/v1/assistants', scriptedAssistant(receiver.url));
    expect(assistant.status, JSON.stringify(assistant.json)).toBe(201);
    const calls = await Promise.all(
      [a, a, b, b].map((server) => TextCall.start(server, assistant.json._id as string)),
    );

    // Mid-call: every backend of both servers (pools and LISTEN connections) is terminated while
    // the callers talk, three times.
    let terminated = 0;
    for (let round = 1; round <= 3; round++) {
      for (const call of calls) call.send({ type: 'user-text', text: 'yes' });
      terminated += await database.terminateAll();
      for (const call of calls) await call.waitFor(() => call.texts.length > round, 10_000, `reply ${round}`);
    }
    // While the calls end.
    for (const call of calls) call.send({ type: 'end' });
    terminated += await database.terminateAll();
    await Promise.all(calls.map((call) => call.waitFor(() => call.closed !== undefined, 10_000, 'close')));
    terminated += await database.terminateAll();
    expect(terminated).toBeGreaterThan(4);

    const ids = calls.map((c) => c.id);
    await receiver.waitFor(
      () =>
        ids.every((id) =>
          receiver
            .accepted()
            .some((e) => e.message.call.id === id && e.message.type === 'end-of-call-report'),
        ),
      15_000,
      'every end-of-call-report',
    );
    // Every stored event delivered (their results written back despite the terminations).
    await until(
      async () =>
        (
          await database.db
            .selectFrom('webhook_deliveries')
            .select('id')
            .where('call_id', 'in', ids)
            .where('status', '!=', 'delivered')
            .execute()
        ).length === 0,
      10_000,
      'every delivery marked delivered',
    );
    for (const id of ids) await expectCallComplete(receiver, database.db, id);
    // The live-event LISTEN connections came back too.
    await until(
      () => servers.every((s) => s.lines.some((l) => l.includes('LISTEN connection restored'))),
      5_000,
      'the LISTEN connections restored',
    );
    // The faults reached the servers' pools (logged, survived).
    expect(servers.every((s) => s.lines.some((l) => l.includes('database connection lost')))).toBe(true);
    expect(servers.every(alive)).toBe(true);
    expect(receiver.schemaErrors).toEqual([]);
  });
});
