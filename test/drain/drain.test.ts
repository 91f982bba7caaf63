import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import {
  alive,
  apiOf,
  eventsOf,
  expectCallComplete,
  KEY,
  needsPostgres,
  scriptedAssistant,
  skipReason,
  startTwoServers,
  TextCall,
  until,
} from '../faults/support.js';
import { type ServeProcess, startServeProcess } from '../support/cli-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Graceful drain of real `parley serve` processes: SIGTERM turns `/health` to 503 `draining` and
 * refuses new calls (503, Retry-After) at once; live calls run on up to PARLEY_DRAIN_TIMEOUT_MS;
 * a call ending within it ends normally, the rest end `system` ("Server shutting down"), each
 * with exactly one terminal status-update and one report; the process exits 0 and every stored
 * event reached the receiver.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => {});
});

const DRAIN_MS = 3_000;

async function exitOf(server: ServeProcess): Promise<number | null> {
  if (!alive(server)) return server.child.exitCode;
  return new Promise((resolve) => server.child.once('exit', (code) => resolve(code)));
}

/** SIGTERM, then what a balancer and a client see while the server drains. */
async function sigtermAndCheckDraining(server: ServeProcess, assistantId: string) {
  server.child.kill('SIGTERM');
  // A request racing the signal may find its kept-alive connection reset: asked again.
  await until(
    async () => (await fetch(`${server.url}/health`).catch(() => undefined))?.status === 503,
    5_000,
    'health to turn draining',
  );
  const health = await fetch(`${server.url}/health`);
  expect(health.status).toBe(503);
  expect(await health.json()).toMatchObject({ status: 'draining', database: { ok: true } });
  const refused = await fetch(`${server.url}/v1/calls`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ assistantId }),
  });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('draining');
}

/** A scripted text assistant whose calls stay live while idle (they end only by the test or the drain). */
const assistantOf = (receiver: WebhookReceiver) => ({
  ...scriptedAssistant(receiver.url),
  idleTimeoutSeconds: 600,
});

const terminalOf = (receiver: WebhookReceiver, callId: string) =>
  eventsOf(receiver, callId).find(
    (m) => m.type === 'status-update' && m.call.status !== 'queued' && m.call.status !== 'ongoing',
  );

describe('graceful drain', () => {
  it('one server (its own database): draining at once, the live calls finish or end at the limit, exit 0, no event lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-drain-'));
    const receiver = await new WebhookReceiver().start();
    cleanups.push(async () => {
      await receiver.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const env = {
      PARLEY_DATA_DIR: dir,
      PARLEY_BOOTSTRAP_KEY: KEY,
      PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
      PARLEY_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
      // An outside PostgreSQL would be the suite's: this test is about one server with its own.
      DATABASE_URL: '',
    };
    const server = await startServeProcess(env);
    cleanups.push(() => server.stop('SIGKILL'));
    const assistant = await apiOf(server.url, 'POST', '/v1/assistants', assistantOf(receiver));
    expect(assistant.status, JSON.stringify(assistant.json)).toBe(201);
    const assistantId = assistant.json._id as string;
    const finishing = await TextCall.start(server, assistantId);
    const lingering = await TextCall.start(server, assistantId);

    const sigterm = Date.now();
    await sigtermAndCheckDraining(server, assistantId);
    // A live call goes on while the server drains, and ends normally.
    finishing.send({ type: 'user-text', text: 'yes' });
    await finishing.waitFor(() => finishing.texts.length >= 2, 5_000, 'a reply while draining');
    finishing.send({ type: 'end' });
    await finishing.waitFor(() => finishing.closed !== undefined, 5_000, 'the finished call to close');
    expect(finishing.closed?.code).toBe(1000);

    expect(await exitOf(server)).toBe(0);
    // The lingering call was ended at the limit, not before.
    expect(Date.now() - sigterm).toBeGreaterThanOrEqual(DRAIN_MS);
    expect(lingering.closed).toBeDefined();
    expect(terminalOf(receiver, finishing.id)?.call.callEndTriggerBy).toBe('user');
    expect(terminalOf(receiver, lingering.id)?.call).toMatchObject({
      callEndTriggerBy: 'system',
      phoneCallStatusReason: 'Server shutting down',
    });
    // Every stored event reached the receiver before the process exited (its lock is released).
    const database = await openDatabase({ dataDir: dir });
    try {
      for (const call of [finishing, lingering]) await expectCallComplete(receiver, database.db, call.id);
    } finally {
      await database.close();
    }
    expect(receiver.schemaErrors).toEqual([]);
  }, 90_000);

  it.skipIf(needsPostgres)(
    `a rolling restart of two servers on one PostgreSQL loses no call event (${needsPostgres ? skipReason : 'PostgreSQL'})`,
    async () => {
      const { database, receiver, a, b } = await startTwoServers(500, cleanups);
      cleanups.push(
        () => a.stop('SIGKILL'),
        () => b.stop('SIGKILL'),
      );
      const assistant = await apiOf(a.url, 'POST', '/v1/assistants', assistantOf(receiver));
      expect(assistant.status, JSON.stringify(assistant.json)).toBe(201);
      const assistantId = assistant.json._id as string;
      const calls: TextCall[] = [];
      const onA = [await TextCall.start(a, assistantId), await TextCall.start(a, assistantId)];
      calls.push(...onA, await TextCall.start(b, assistantId));
      const instanceA = ((await (await fetch(`${a.url}/health`)).json()) as { instance: string }).instance;

      // The end-of-call reports of a's calls are refused for a while: a exits holding them pending.
      const held = new Set(onA.map((c) => c.id));
      let refusing = true;
      receiver.respond = (event) =>
        refusing && event.message?.type === 'end-of-call-report' && held.has(event.message.call.id)
          ? { status: 503 }
          : undefined;

      // Restart a: drains (one call ends by itself; a second SIGTERM ends the other at once, as
      // the limit would), exits 0, comes back.
      await sigtermAndCheckDraining(a, assistantId);
      calls.push(await TextCall.start(b, assistantId)); // the other server admits meanwhile
      const [first, second] = onA as [TextCall, TextCall];
      first.send({ type: 'end' });
      await first.waitFor(() => first.closed !== undefined, 5_000, 'the finished call to close');
      expect(alive(a)).toBe(true);
      a.child.kill('SIGTERM');
      expect(await exitOf(a)).toBe(0);
      expect(second.closed).toBeDefined();
      const pendingOfA = await database.db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('lease_owner', '=', instanceA)
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow();
      expect(Number(pendingOfA.n), 'deliveries still leased to the stopped server').toBe(0);
      refusing = false;
      const dirA2 = await mkdtemp(join(tmpdir(), 'parley-drain-a2-'));
      const a2 = await startServeProcess({
        ...database.env,
        PARLEY_BOOTSTRAP_KEY: KEY,
        PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
        PARLEY_CALL_HEARTBEAT_MS: '500',
        PARLEY_DATA_DIR: dirA2,
      });
      cleanups.push(async () => {
        await a2.stop('SIGKILL');
        await rm(dirA2, { recursive: true, force: true });
      });
      calls.push(await TextCall.start(a2, assistantId));

      // Restart b the same way: a second SIGTERM ends its calls at once.
      await sigtermAndCheckDraining(b, assistantId);
      b.child.kill('SIGTERM');
      expect(await exitOf(b)).toBe(0);
      for (const call of calls.slice(2, 4)) expect(call.closed, call.id).toBeDefined();

      // The last call ends on a2; then every call is complete and every event delivered.
      calls.at(-1)?.send({ type: 'end' });
      await until(
        () => calls.every((c) => eventsOf(receiver, c.id).some((m) => m.type === 'end-of-call-report')),
        20_000,
        'every report',
      );
      for (const call of calls) await expectCallComplete(receiver, database.db, call.id);
      expect(receiver.schemaErrors).toEqual([]);
    },
    120_000,
  );
});
