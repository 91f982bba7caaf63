import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/assistants/assistant-defaults.js';
import { CallRecovery } from '../../src/calls/call-recovery.js';
import { insertCall } from '../../src/calls/call-store.js';
import { newWebCall } from '../../src/engine/call-lifecycle.js';
import type { LiveEvent } from '../../src/live/live-events.js';
import { createLogger } from '../../src/logger.js';
import { createParley, type Parley } from '../../src/server.js';
import { newWebCallId } from '../../src/shared/ids.js';
import { findOrCreateTeam } from '../../src/tenancy/api-keys.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { CloseCodes } from '../../src/transports/web/protocol.js';
import { testDatabaseUrl } from '../support/test-database.js';
import { startTestServer } from '../support/test-server.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { api, type CallServer, Client, callEvents, startCallServer } from './support.js';

/**
 * Issue 13: a call's media may reach any server on the database. Media tokens are stored
 * (hashed) in the database; the server the client joins through claims the call and runs it;
 * `POST /v1/calls/:id/end` on another server reaches it at once (NOTIFY), not at its heartbeat.
 */
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const providers = () =>
  fakeProviders({
    llm: new FakeLlm({ firstTokenMs: 5, tokenMs: 1 }),
    stt: { finalLatencyMs: 5 },
    tts: { firstChunkMs: 5, chunkGenerationMs: 1, msPerChar: 1 },
  });

async function startWithAssistant(env: Record<string, string> = {}) {
  const cs = await startCallServer(providers(), { env });
  cleanups.push(() => cs.close());
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'anywhere',
    welcomeMessage: 'Hello there',
    assistantServer: { url: cs.receiver.url },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return { cs, assistantId: created.json._id as string };
}

/** The WebSocket URL of a join, on another server. */
const joinOn = (baseUrl: string, joinUrl: string) => {
  const url = new URL(joinUrl);
  return `${baseUrl.replace(/^http/, 'ws')}${url.pathname}${url.search}`;
};

describe('join tokens in the database', () => {
  it('stores only the hash; single use; bound to its call; a reused token closes with 4401', async () => {
    const { cs, assistantId } = await startWithAssistant();
    const created = await api(cs, 'POST', '/v1/calls', { assistantId });
    expect(created.status).toBe(201);
    const { id, join } = created.json as { id: string; join: { url: string; token: string } };
    const rows = await cs.server.database.db.selectFrom('call_media_tokens').selectAll().execute();
    const row = rows.find((r) => r.call_id === id);
    expect(row).toMatchObject({ used_at: null });
    expect(row?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(join.token);

    // Another call's URL with this token: refused, and the token is still good for its own call.
    const wrong = await Client.connect(join.url.replace(id, 'WC-00000000-0000-4000-8000-000000000000'));
    await wrong.waitClosed();
    expect(wrong.closed?.code).toBe(CloseCodes.badToken);

    const client = await Client.connect(join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final), 10_000, 'the welcome');
    const again = await Client.connect(join.url);
    await again.waitClosed();
    expect(again.closed?.code).toBe(CloseCodes.badToken);
    client.send({ type: 'end' });
    await client.waitClosed();
  });

  it('an expired token closes with 4401 and the call ends no-answer', async () => {
    const cs = await startCallServer(providers(), { joinTokenTtlMs: 300 });
    cleanups.push(() => cs.close());
    const assistant = await api(cs, 'POST', '/v1/assistants', {
      name: 'brief',
      assistantServer: { url: cs.receiver.url },
    });
    const created = await api(cs, 'POST', '/v1/calls', { assistantId: assistant.json._id });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
      5_000,
      'the report',
    );
    expect(callEvents(cs, id).at(-1).call).toMatchObject({
      status: 'finished',
      phoneCallStatus: 'no-answer',
    });
    const late = await Client.connect(created.json.join.url);
    await late.waitClosed();
    expect(late.closed?.code).toBe(CloseCodes.badToken);
  });
});

describe('claiming a call for its client (adopt)', () => {
  it("waits for the creator's queued status-update, so that write is not fenced off", async () => {
    const cs = await startCallServer(providers());
    cleanups.push(() => cs.close());
    const db = cs.server.database.db;
    const team = await findOrCreateTeam(db, 'calls');
    const id = newWebCallId();
    const call = newWebCall({ id, teamId: team.id, assistantId: '', userNumber: 'web-x', now: Date.now() });
    const assistant = { _id: '', ...withDefaults({ name: 'adopted' }) };
    await insertCall(db, call);
    await sql`update calls set owner = ${cs.server.parley.instance}, assistant_snapshot = ${JSON.stringify(assistant)}
      where id = ${id}`.execute(db);
    const other = new CallRecovery(db, cs.server.parley.outbox, createLogger('silent'), {
      owner: 'inst_other',
    });
    const adopting = other.adopt(id);
    // The creator stores its queued status-update a moment later: not refused.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await cs.server.parley.outbox.record({ call, assistant, messages: [], phoneProvider: '' }, [
      { type: 'status-update' },
    ]);
    const adopted = await adopting;
    expect(adopted?.call.id).toBe(id);
    const row = await db.selectFrom('calls').select(['owner']).where('id', '=', id).executeTakeFirst();
    expect(row?.owner).toBe('inst_other');
  });
});

/** Server A as `startCallServer` makes it, with its live relay on the test database. */
async function startRelayed(env: Record<string, string>, joinTokenTtlMs = 60_000): Promise<CallServer> {
  const receiver = await new WebhookReceiver().start();
  let baseUrl = '';
  // Not a literal: startTestServer's options type leaves `liveRelay` out, createParley takes it.
  const engine = {
    providers: providers(),
    calls: { publicUrl: () => baseUrl, joinTokenTtlMs },
    liveRelay: { connectionString: testDatabaseUrl as string },
  };
  const server = await startTestServer(env, {}, engine);
  await server.parley.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(server.parley.app.server.address() as AddressInfo).port}`;
  const cs: CallServer = {
    server,
    calls: server.parley.calls,
    receiver,
    key: await server.createKey('calls'),
    baseUrl,
    close: async () => {
      await receiver.stop();
      await server.close();
    },
  };
  cleanups.push(() => cs.close());
  return cs;
}

/** Server B: another Parley on A's database (same schema). */
async function startB(cs: CallServer): Promise<{ b: Parley; bUrl: string }> {
  const b = await createParley(cs.server.config, {
    database: await cs.server.testDatabase.open(),
    providers: providers(),
    logger: createLogger('silent'),
    liveRelay: { connectionString: testDatabaseUrl as string },
  });
  cleanups.push(() => b.close());
  await b.app.listen({ port: 0, host: '127.0.0.1' });
  return { b, bUrl: `http://127.0.0.1:${(b.app.server.address() as AddressInfo).port}` };
}

describe.skipIf(!testDatabaseUrl)('two servers on one PostgreSQL database', () => {
  it("a call created through A runs on B, which its client joined; A's end reaches B at once", async () => {
    // Heartbeats a minute apart: only the signal can end the call within the test's bounds.
    const cs = await startRelayed({ PARLEY_CALL_HEARTBEAT_MS: '60000' });
    const assistant = await api(cs, 'POST', '/v1/assistants', {
      name: 'anywhere',
      welcomeMessage: 'Hello there',
      assistantServer: { url: cs.receiver.url },
    });
    const assistantId = assistant.json._id as string;
    const a = cs.server.parley;
    const { b, bUrl } = await startB(cs);

    // The live stream of both servers (what `GET /v1/events/stream` forwards).
    const team = await findOrCreateTeam(a.database.db, 'calls');
    const seen = { a: [] as LiveEvent[], b: [] as LiveEvent[] };
    cleanups.push(async () => {
      stopA();
      stopB();
    });
    const stopA = a.live.subscribe({ teamId: team.id }, (e) => seen.a.push(e));
    const stopB = b.live.subscribe({ teamId: team.id }, (e) => seen.b.push(e));
    await expect.poll(() => a.liveRelay?.listening && b.liveRelay?.listening).toBe(true);

    const created = await api(cs, 'POST', '/v1/calls', { assistantId });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const client = await Client.connect(joinOn(bUrl, created.json.join.url));
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final), 10_000, 'the welcome');
    client.send({ type: 'user-text', text: 'hello from afar' });
    await client.waitFor(
      () => client.of('assistant-text').filter((m) => m.final).length >= 2,
      10_000,
      'the reply',
    );
    expect(b.calls.session(id)?.call.status).toBe('ongoing');
    const owner = await sql<{ owner: string }>`select owner from calls where id = ${id}`.execute(
      a.database.db,
    );
    expect(owner.rows[0]?.owner).toBe(b.instance);

    const started = Date.now();
    const ended = await api(cs, 'POST', `/v1/calls/${id}/end`);
    expect(ended.status, JSON.stringify(ended.json)).toBe(202);
    await client.waitClosed(5_000);
    expect(client.closed?.code).toBe(1000);
    expect(Date.now() - started).toBeLessThan(5_000);
    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
      10_000,
      'the report',
    );
    const events = callEvents(cs, id);
    const statuses = events.filter((m) => m.type === 'status-update').map((m) => m.call.status);
    expect(statuses).toEqual(['queued', 'ongoing', 'finished']);
    expect(events.filter((m) => m.type === 'end-of-call-report')).toHaveLength(1);
    const terminal = events.find((m) => m.type === 'status-update' && m.call.status === 'finished');
    expect(terminal.call).toMatchObject({
      callEndTriggerBy: 'system',
      phoneCallStatusReason: 'Ended through the API',
    });
    // A's session (created with the call) stopped without writing anything.
    await expect.poll(() => a.calls.session(id), { timeout: 5_000 }).toBeUndefined();

    // Each server's live stream shows every event of the call once.
    const stored = (
      await sql<{ sequence: number }>`select sequence from call_events where call_id = ${id}
        order by sequence`.execute(a.database.db)
    ).rows.map((r) => r.sequence);
    for (const side of ['a', 'b'] as const) {
      await expect
        .poll(() => seen[side].filter((e) => e.callId === id).length, { timeout: 5_000 })
        .toBe(stored.length);
      expect(seen[side].filter((e) => e.callId === id).map((e) => e.sequence)).toEqual(stored);
    }
    expect(cs.receiver.schemaErrors).toEqual([]);
  });

  it("a carrier's busy callback reaching B ends the outbound call A placed, as busy, at once", async () => {
    const cs = await startRelayed({ PARLEY_CALL_HEARTBEAT_MS: '60000' });
    const assistant = await api(cs, 'POST', '/v1/assistants', {
      name: 'dialer',
      assistantServer: { url: cs.receiver.url },
    });
    const { b } = await startB(cs);
    // A hears end requests on its LISTEN connection (the control channel).
    await expect.poll(() => cs.server.parley.liveRelay?.listenerPid, { timeout: 10_000 }).toBeDefined();
    const team = await findOrCreateTeam(cs.server.parley.database.db, 'calls');
    const admission = await cs.calls.admission.admit({
      teamId: team.id,
      channel: 'twilio',
      direction: 'outbound',
      customer: { number: '+15550142' },
      phoneNumber: { id: 'num_1', number: '+15550100' },
      assistant: { assistantId: assistant.json._id },
    });
    const id = admission.call.id;
    await b.calls.phoneStatus.report(id, { status: 'busy', detail: 'busy' });
    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
      5_000,
      'the report',
    );
    const events = callEvents(cs, id);
    const statuses = events.filter((m) => m.type === 'status-update');
    expect(statuses.map((m) => m.call.phoneCallStatus)).toEqual(['queued', 'busy']);
    expect(statuses[1].call.phoneCallStatusReason).toBe('Customer was busy (busy)');
    expect(statuses[1].phone.provider.name).toBe('twilio');
    expect(events.filter((m) => m.type === 'end-of-call-report')).toHaveLength(1);
  });

  it("A's join window passing does not end a call whose client joined through B", async () => {
    const cs = await startRelayed({ PARLEY_CALL_HEARTBEAT_MS: '60000' }, 1_000);
    const assistant = await api(cs, 'POST', '/v1/assistants', {
      name: 'window',
      welcomeMessage: 'Hello there',
      assistantServer: { url: cs.receiver.url },
    });
    const { bUrl } = await startB(cs);
    const created = await api(cs, 'POST', '/v1/calls', { assistantId: assistant.json._id });
    const id = created.json.id as string;
    const client = await Client.connect(joinOn(bUrl, created.json.join.url));
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final), 10_000, 'the welcome');
    // A's timer fires after 1 s: its session stops, the call goes on through B.
    await expect.poll(() => cs.calls.session(id), { timeout: 5_000 }).toBeUndefined();
    client.send({ type: 'user-text', text: 'still here' });
    await client.waitFor(
      () => client.of('assistant-text').filter((m) => m.final).length >= 2,
      10_000,
      'the reply',
    );
    client.send({ type: 'end' });
    await client.waitClosed();
    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
      10_000,
      'the report',
    );
    const events = callEvents(cs, id);
    expect(events.filter((m) => m.type === 'status-update').map((m) => m.call.status)).toEqual([
      'queued',
      'ongoing',
      'finished',
    ]);
    expect(events.at(-1).call).toMatchObject({ status: 'finished', callEndTriggerBy: 'user' });
  });
});
