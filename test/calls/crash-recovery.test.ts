import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ServeProcess, startServeProcess } from '../support/cli-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

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
