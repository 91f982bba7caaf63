import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { api, type CallServer, Client, callEvents, startCallServer } from '../calls/support.js';
import { expectCallComplete, needsPostgres, skipReason, until } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/**
 * A session on a connection of its own that holds a table lock, so that the server's writes
 * block behind it; those blocked statements are then cancelled (`pg_cancel_backend`), as a
 * restart, a failover or an operator would.
 */
async function locker(cs: CallServer) {
  const client = new pg.Client({ connectionString: cs.server.testDatabase.env.DATABASE_URL });
  await client.connect();
  cleanups.push(() => client.end());
  const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
  /** Cancels every statement waiting for this lock; returns how many. */
  const cancelBlocked = async () =>
    (
      await client.query<{ ok: boolean }>(
        'select pg_cancel_backend(pid) as ok from pg_stat_activity where $1::int = any(pg_blocking_pids(pid))',
        [pid],
      )
    ).rows.length;
  return {
    lock: (table: string) =>
      client.query(`begin; lock table ${client.escapeIdentifier(table)} in access exclusive mode`),
    release: () => client.query('rollback'),
    cancelBlocked,
    /** Cancels blocked statements until `times` were cancelled (each retry blocks anew). */
    async cancelRepeatedly(times: number): Promise<void> {
      let cancelled = 0;
      await until(
        async () => {
          cancelled += await cancelBlocked();
          return cancelled >= times;
        },
        10_000,
        `${times} blocked statements to cancel`,
      );
    },
  };
}

describe.skipIf(needsPostgres)(`cancelled statements (${skipReason})`, () => {
  it('a call whose terminal writes are cancelled still ends: events retried until stored, then delivered', async () => {
    const cs = await startCallServer(
      fakeProviders({
        llm: new FakeLlm({ firstTokenMs: 5, tokenMs: 1 }),
        stt: { finalLatencyMs: 5 },
        tts: { firstChunkMs: 5, chunkGenerationMs: 1, msPerChar: 1 },
      }),
    );
    cleanups.push(() => cs.close());
    const assistant = await api(cs, 'POST', '/v1/assistants', {
      name: 'cancelled',
      welcomeMessage: 'Hello',
      assistantServer: { url: cs.receiver.url },
    });
    const created = await api(cs, 'POST', '/v1/calls', { assistantId: assistant.json._id });
    const id = created.json.id as string;
    const client = await Client.connect(created.json.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'conversation-update'),
      10_000,
      'the welcome',
    );

    // Issue 11, item 2: the event table is locked, the call ends, the blocked inserts are cancelled.
    const db = await locker(cs);
    await db.lock('call_events');
    client.send({ type: 'end' });
    await client.waitClosed();
    expect(client.of('status').at(-1)).toMatchObject({ status: 'finished' });
    await db.cancelRepeatedly(3);
    await db.release();

    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
      10_000,
      'the end-of-call-report',
    );
    await expectCallComplete(cs.receiver, cs.server.database.db, id);
    expect((await api(cs, 'GET', `/v1/calls/${id}`)).json.status).toBe('finished');
    expect(cs.server.logs.join('')).toContain('retrying until it is stored');
  });

  it('delivery results whose write is cancelled are written later, not lost', async () => {
    const cs = await startCallServer(
      fakeProviders({ llm: new FakeLlm({ firstTokenMs: 5, tokenMs: 1 }), stt: { finalLatencyMs: 5 } }),
    );
    cleanups.push(() => cs.close());
    const assistant = await api(cs, 'POST', '/v1/assistants', {
      name: 'cancelled results',
      welcomeMessage: 'Hello',
      assistantServer: { url: cs.receiver.url },
    });
    const created = await api(cs, 'POST', '/v1/calls', { assistantId: assistant.json._id });
    const id = created.json.id as string;
    const db = await locker(cs);
    // Attempts are sent and answered, but their results cannot be written meanwhile.
    await db.lock('webhook_attempts');
    const client = await Client.connect(created.json.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'conversation-update'),
      10_000,
      'the welcome',
    );
    await db.cancelRepeatedly(2);
    await db.release();
    client.send({ type: 'end' });
    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
      10_000,
      'the end-of-call-report',
    );
    await until(
      async () => {
        const res = await api(cs, 'GET', `/v1/webhook-deliveries?callId=${id}&limit=100`);
        const rows = res.json.data as { status: string }[];
        return rows.length === callEvents(cs, id).length && rows.every((r) => r.status === 'delivered');
      },
      5_000,
      'every delivery recorded as delivered',
    );
    await expectCallComplete(cs.receiver, cs.server.database.db, id);
    // Each event was sent once: no result was lost (a lost one is sent again after its lease).
    expect(cs.receiver.events.length).toBe(cs.receiver.accepted().length);
    expect(cs.server.logs.join('')).toContain('could not write delivery results; retrying');
  });
});
