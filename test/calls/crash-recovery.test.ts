import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { withDefaults } from '../../src/assistants/assistant-defaults.js';
import { wavHeader } from '../../src/audio/wav.js';
import { insertCall } from '../../src/calls/call-store.js';
import { newWebCall, transition } from '../../src/engine/call-lifecycle.js';
import { newWebCallId } from '../../src/shared/ids.js';
import { findOrCreateTeam } from '../../src/tenancy/api-keys.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { CloseCodes } from '../../src/transports/web/protocol.js';
import { type ServeProcess, startServeProcess } from '../support/cli-process.js';
import { createTestDatabase, testDatabaseUrl } from '../support/test-database.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { api, type CallServer, Client, callEvents, startCallServer } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const KEY = 'crash-test-key-0123456789';

describe('a server killed mid-call', () => {
  it('is finished by the next server with system, one terminal status-update and one report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-call-crash-'));
    const database = await createTestDatabase(dir);
    await (await database.open()).close();
    const receiver = await new WebhookReceiver().start();
    cleanups.push(async () => {
      await receiver.stop();
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    });
    const env = {
      ...database.env,
      PARLEY_BOOTSTRAP_KEY: KEY,
      PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
      PARLEY_CALL_HEARTBEAT_MS: '300',
    };
    const first: ServeProcess = await startServeProcess(env);
    cleanups.push(() => first.stop());
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(first.url + path, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as Record<string, never>;
    };
    const assistant = await api('POST', '/v1/assistants', {
      name: 'crash',
      welcomeMessage: 'Hello before the crash',
      assistantProvider: 'scripted',
      dialog: {
        start: 'ask',
        nodes: { ask: { say: 'Say yes.', expect: [{ keywords: ['yes'], next: 'ask' }] } },
      },
      assistantServer: { url: receiver.url },
    });
    const call = (await api('POST', '/v1/calls', { assistantId: assistant._id })) as unknown as {
      id: string;
      join: { url: string };
    };
    const joinUrl = new URL(call.join.url);
    const ws = new WebSocket(`${first.url.replace('http', 'ws')}${joinUrl.pathname}${joinUrl.search}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false }));
    const ofCall = () => receiver.accepted().filter((e) => e.message.call.id === call.id);
    await receiver.waitFor(
      () => ofCall().some((e) => e.message.type === 'conversation-update'),
      15_000,
      'the welcome message',
    );

    await first.stop('SIGKILL');
    ws.terminate();
    const second = await startServeProcess(env);
    cleanups.push(() => second.stop());

    await receiver.waitFor(
      () => ofCall().some((e) => e.message.type === 'end-of-call-report'),
      20_000,
      'the end-of-call-report after restart',
    );
    const events = ofCall().map((e) => e.message);
    const terminal = events.filter(
      (m) => m.type === 'status-update' && m.call.status !== 'queued' && m.call.status !== 'ongoing',
    );
    expect(terminal).toHaveLength(1);
    expect(terminal[0].call).toMatchObject({
      status: 'finished',
      phoneCallStatus: 'ended-with-error',
      callEndTriggerBy: 'system',
    });
    expect(events.filter((m) => m.type === 'end-of-call-report')).toHaveLength(1);
    const report = events.find((m) => m.type === 'end-of-call-report');
    expect(report.messages.map((m: { text: string }) => m.text)).toContain('Hello before the crash');
    expect(report.call.assistantCallDuration).toBeGreaterThan(0);
    expect(report.call.cost).toMatchObject({ currency: 'USD' });
    expect(report.call.metrics).toBeDefined();
    const sequences = events.map((m) => m.sequence).sort((a, b) => a - b);
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    expect(receiver.schemaErrors).toEqual([]);
  });
});

const providers = () =>
  fakeProviders({
    llm: new FakeLlm({ firstTokenMs: 5, tokenMs: 1 }),
    stt: { finalLatencyMs: 5 },
    tts: { firstChunkMs: 5, chunkGenerationMs: 1, msPerChar: 1 },
  });

async function startWithAssistant(
  env: Record<string, string>,
): Promise<{ cs: CallServer; assistantId: string }> {
  const cs = await startCallServer(providers(), { env });
  cleanups.push(() => cs.close());
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'fenced',
    welcomeMessage: 'Hello there',
    assistantServer: { url: cs.receiver.url },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return { cs, assistantId: created.json._id };
}

async function connectedCall(cs: CallServer, assistantId: string) {
  const created = await api(cs, 'POST', '/v1/calls', { assistantId });
  expect(created.status).toBe(201);
  const client = await Client.connect(created.json.join.url);
  client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
  await client.waitFor(() => client.of('assistant-text').some((m) => m.final), 10_000, 'the welcome');
  // Every event so far is stored (delivered), so nothing is in flight when the test interferes.
  await cs.receiver.waitFor(
    () => callEvents(cs, created.json.id).some((m) => m.type === 'conversation-update'),
    10_000,
    'the welcome conversation-update',
  );
  return { id: created.json.id as string, client };
}

/** Another process took the call over (as recovery does after this one stalled). */
const takeOver = (cs: CallServer, callId: string) =>
  sql`update calls set owner = 'proc_other', heartbeat_at = now() where id = ${callId}`.execute(
    cs.server.database.db,
  );

const storedEvents = async (cs: CallServer, callId: string) =>
  (
    await sql<{ type: string; sequence: number }>`select type, sequence from call_events
      where call_id = ${callId} order by sequence`.execute(cs.server.database.db)
  ).rows;

/**
 * A live call whose server crashed: owned by a process silent for an hour, no session anywhere.
 * `reportConnected`: its server had recorded the call's `ongoing` status-update.
 */
async function abandonedCall(cs: CallServer, assistantId: string, o: { reportConnected?: boolean } = {}) {
  const db = cs.server.database.db;
  const team = await findOrCreateTeam(db, 'calls');
  const id = newWebCallId();
  const queued = newWebCall({
    id,
    teamId: team.id,
    assistantId,
    userNumber: 'web-gone',
    now: Date.now() - 5_000,
  });
  const connected = transition(queued, { type: 'connect' }, Date.now() - 4_000);
  await insertCall(db, connected);
  const assistant = {
    _id: assistantId,
    ...withDefaults({ name: 'gone', assistantServer: { url: cs.receiver.url } }),
  };
  if (o.reportConnected)
    await cs.server.parley.outbox.record({ call: connected, assistant, messages: [], phoneProvider: '' }, [
      { type: 'status-update' },
    ]);
  await sql`update calls set owner = 'proc_gone', heartbeat_at = now() - interval '1 hour',
    assistant_snapshot = ${JSON.stringify(assistant)} where id = ${id}`.execute(db);
  return { id };
}

describe('ending any call, and fencing a call another server took over', () => {
  it('POST /v1/calls/:id/end finishes a call whose server stopped beating (was 409)', async () => {
    const { cs, assistantId } = await startWithAssistant({ PARLEY_CALL_HEARTBEAT_MS: '60000' });
    const { id } = await abandonedCall(cs, assistantId);

    const ended = await api(cs, 'POST', `/v1/calls/${id}/end`);
    expect(ended.status, JSON.stringify(ended.json)).toBe(200);
    expect(ended.json).toMatchObject({ id, status: 'finished', callEndTriggerBy: 'system' });
    expect((await api(cs, 'GET', `/v1/calls/${id}`)).json.status).toBe('finished');
    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
      10_000,
      'the report',
    );
    const events = callEvents(cs, id);
    expect(events.filter((m) => m.type === 'status-update' && m.call.status === 'finished')).toHaveLength(1);
    expect(events.filter((m) => m.type === 'end-of-call-report')).toHaveLength(1);
    // Idempotent afterwards.
    const again = await api(cs, 'POST', `/v1/calls/${id}/end`);
    expect(again.status).toBe(200);
    expect(again.json.status).toBe('finished');
  });

  it("a recovered call's report carries what its stopped server recorded (salvaged from .partial)", async () => {
    const { cs, assistantId } = await startWithAssistant({ PARLEY_CALL_HEARTBEAT_MS: '60000' });
    const { id } = await abandonedCall(cs, assistantId, { reportConnected: true });
    // The recording the stopped server was writing: header as opened (length 0), then 1.5 s of 16 kHz audio.
    const partial = join(cs.server.dataDir, 'recordings', '.partial');
    await mkdir(partial, { recursive: true });
    await writeFile(
      join(partial, `${id}.wav`),
      Buffer.concat([wavHeader(0, 16_000, 1), Buffer.alloc(16_000 * 2 * 1.5, 0x10)]),
    );

    const ended = await api(cs, 'POST', `/v1/calls/${id}/end`);
    expect(ended.status, JSON.stringify(ended.json)).toBe(200);
    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
      10_000,
      'the report',
    );
    const report = callEvents(cs, id).find((m) => m.type === 'end-of-call-report') as unknown as {
      recordingUrl?: string;
      call: { recording?: { path: string } };
    };
    expect(report.recordingUrl).toMatch(new RegExp(`/recordings/${id}\\.wav\\?expires=\\d+&sig=`));
    expect(report.call.recording?.path).toMatch(new RegExp(`${id}\\.wav$`));
    const wav = await fetch(report.recordingUrl as string);
    expect(wav.status).toBe(200);
    const body = Buffer.from(await wav.arrayBuffer());
    expect(body.readUInt32LE(40)).toBe(16_000 * 2 * 1.5); // the header now says how much was recorded
    expect(await readdir(partial)).toEqual([]);
  });

  it('a call whose server died between its terminal status-update and its report gets the report once', async () => {
    const { cs, assistantId } = await startWithAssistant({ PARLEY_CALL_HEARTBEAT_MS: '200' });
    const db = cs.server.database.db;
    const team = await findOrCreateTeam(db, 'calls');
    const id = newWebCallId();
    const start = Date.now() - 10_000;
    const queued = newWebCall({ id, teamId: team.id, assistantId, userNumber: 'web-half', now: start });
    const ongoing = transition(queued, { type: 'connect' }, start + 1_000);
    const finished = transition(
      ongoing,
      { type: 'end', trigger: 'user', reason: 'Customer hung up' },
      start + 5_000,
    );
    const assistant = {
      _id: assistantId,
      ...withDefaults({ name: 'half', assistantServer: { url: cs.receiver.url } }),
    };
    const ctx = { assistant, messages: [], phoneProvider: '' };
    await cs.server.parley.outbox.record({ ...ctx, call: ongoing }, [{ type: 'status-update' }]);
    await cs.server.parley.outbox.record({ ...ctx, call: finished }, [{ type: 'status-update' }]);
    // Its server then died: no report, no heartbeat since.
    await sql`update calls set owner = 'proc_gone', heartbeat_at = now() - interval '1 hour',
      assistant_snapshot = ${JSON.stringify(assistant)} where id = ${id}`.execute(db);

    await cs.receiver.waitFor(
      () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
      10_000,
      'the report from recovery',
    );
    const events = callEvents(cs, id);
    expect(events.map((m) => m.type)).toEqual(['status-update', 'status-update', 'end-of-call-report']);
    expect(events[2].call).toMatchObject({ status: 'finished', callEndTriggerBy: 'user' });
    // Reported: later sweeps leave it alone.
    const row = await db.selectFrom('calls').select(['reported_at']).where('id', '=', id).executeTakeFirst();
    expect(row?.reported_at).toBeInstanceOf(Date);
  });

  it('a session whose call was taken over writes nothing more and closes its client with 1012', async () => {
    const { cs, assistantId } = await startWithAssistant({ PARLEY_CALL_HEARTBEAT_MS: '60000' });
    const { id, client } = await connectedCall(cs, assistantId);
    const before = await storedEvents(cs, id);
    await takeOver(cs, id);
    // The next write (the caller's turn) is refused in the same statement that checks the owner.
    client.send({ type: 'user-text', text: 'are you still there' });
    await client.waitClosed();
    expect(client.closed?.code).toBe(CloseCodes.takenOver);
    await expect.poll(() => cs.calls.session(id), { timeout: 5_000 }).toBeUndefined();
    expect(await storedEvents(cs, id)).toEqual(before);
    expect((await api(cs, 'GET', `/v1/calls/${id}`)).json.status).toBe('ongoing');
  });

  it('a live session stops at its next heartbeat once another server owns its call', async () => {
    const { cs, assistantId } = await startWithAssistant({ PARLEY_CALL_HEARTBEAT_MS: '200' });
    const { id, client } = await connectedCall(cs, assistantId);
    const before = await storedEvents(cs, id);
    await takeOver(cs, id);
    await client.waitClosed(5_000);
    expect(client.closed).toMatchObject({ code: CloseCodes.takenOver });
    expect(client.closed?.reason).toContain('taken over');
    expect(await storedEvents(cs, id)).toEqual(before);
  });

  it.skipIf(!testDatabaseUrl)(
    'POST /v1/calls/:id/end on another live server: 202, and the server running the call ends it',
    async () => {
      const { cs, assistantId } = await startWithAssistant({ PARLEY_CALL_HEARTBEAT_MS: '200' });
      const { id, client } = await connectedCall(cs, assistantId);
      // A second server on the same database (same schema), which does not run the call.
      const { createParley } = await import('../../src/server.js');
      const other = await createParley(cs.server.config, {
        database: await cs.server.testDatabase.open(),
        providers: providers(),
        logger: (await import('../../src/logger.js')).createLogger('silent'),
      });
      cleanups.push(() => other.close());
      const res = await other.app.inject({
        method: 'POST',
        url: `/v1/calls/${id}/end`,
        headers: { authorization: `Bearer ${cs.key}` },
      });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toMatchObject({ id, status: 'ongoing', endRequestedAt: expect.any(String) });
      await client.waitClosed(5_000);
      expect(client.closed?.code).toBe(1000);
      await cs.receiver.waitFor(
        () => callEvents(cs, id).some((m) => m.type === 'end-of-call-report'),
        10_000,
        'the report',
      );
      const terminal = callEvents(cs, id).filter(
        (m) => m.type === 'status-update' && m.call.status === 'finished',
      );
      expect(terminal).toHaveLength(1);
      expect(terminal[0].call).toMatchObject({
        callEndTriggerBy: 'system',
        phoneCallStatusReason: 'Ended through the API',
      });
    },
  );
});
