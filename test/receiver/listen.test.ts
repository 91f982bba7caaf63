import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseListenArgs } from '../../src/listen/listen-options.js';
import { Listener } from '../../src/listen/listener.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { api, type CallServer, Client, startCallServer } from '../calls/support.js';
import { startPackageReceiver, until } from './support.js';

/** `parley listen` against a real server, forwarding to a receiver built on @parley/receiver. */
const SECRET = 'whsec_bGlzdGVuLXNlY3JldC0wMTIzNDU2Nzg5YWI=';
const root = join(import.meta.dirname, '../..');

let cs: CallServer;
let receiver: Awaited<ReturnType<typeof startPackageReceiver>>;
let assistantId = '';

beforeAll(async () => {
  cs = await startCallServer(
    fakeProviders({
      llm: new FakeLlm({ firstTokenMs: 5, tokenMs: 1 }),
      tts: { firstChunkMs: 5, msPerChar: 5 },
    }),
  );
  receiver = await startPackageReceiver(SECRET);
  // No assistantServer: the events reach the local receiver only through `listen`.
  const created = await api(cs, 'POST', '/v1/assistants', { name: 'listen', welcomeMessage: 'Hi.' });
  assistantId = created.json._id;
}, 60_000);
afterAll(async () => {
  await cs?.close();
  await receiver?.close();
});

async function storedEvents(
  callId: string,
): Promise<{ type: string; sequence: number; event: { id: string } }[]> {
  const res = await api(cs, 'GET', `/v1/calls/${callId}/events?limit=1000`);
  return res.json.data;
}

async function say(client: Client, text: string) {
  client.send({ type: 'user-text', text });
  await client.waitFor(() =>
    client.of('assistant-text').some((m) => m.final && m.text === `You said: ${text}.`),
  );
}

describe('parley listen', () => {
  it('forwards every event of a real call, signed, and fills a drop from storage', async () => {
    let release: () => void = () => undefined;
    let gate: Promise<void> | undefined;
    const lines: string[] = [];
    const listener = new Listener(
      parseListenArgs(
        ['--url', cs.baseUrl, '--key', cs.key, '--forward-to', receiver.url, '--secret', SECRET],
        {},
      ),
      {
        print: (line) => lines.push(line),
        log: () => undefined,
        beforeReconnect: () => gate ?? Promise.resolve(),
      },
    );
    void listener.start();
    await listener.ready;

    const call = await api(cs, 'POST', '/v1/calls', { assistantId });
    const callId = call.json.id as string;
    const client = await Client.connect(call.json.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await say(client, 'first');
    await until(() => receiver.ofCall(callId).length >= 4, 'the first events');

    // A drop: the listener stays away while the call goes on.
    gate = new Promise((resolve) => {
      release = resolve;
    });
    listener.drop();
    const before = (await storedEvents(callId)).length;
    await say(client, 'second');
    let whileAway = before;
    for (let i = 0; i < 250 && whileAway <= before + 1; i++) {
      whileAway = (await storedEvents(callId)).length; // the turn's two conversation-updates, stored
      if (whileAway <= before + 1) await new Promise((r) => setTimeout(r, 20));
    }
    expect(whileAway).toBeGreaterThan(before + 1);
    const forwardedWhileAway = receiver.ofCall(callId).length;
    gate = undefined;
    release();

    await say(client, 'third');
    client.send({ type: 'end' });
    await client.waitClosed();
    await until(
      () => receiver.ofCall(callId).some((d) => d.event.message.type === 'end-of-call-report'),
      'the report through listen',
    );
    await listener.stop();

    const stored = await storedEvents(callId);
    const forwarded = receiver.ofCall(callId);
    expect(forwardedWhileAway).toBeLessThan(whileAway);
    expect(receiver.refused).toEqual([]);
    expect(forwarded.map((d) => d.event.message.id)).toEqual(stored.map((e) => e.event.id)); // each once, in order
    expect(forwarded.every((d) => d.verified?.scheme === 'standard')).toBe(true);
    expect(lines.filter((l) => l.includes(callId))).toHaveLength(stored.length);
    expect(lines.some((l) => l.includes('missed during a drop'))).toBe(true);
    expect(lines[0]).toMatch(/status-update\s+WC-[0-9a-f-]+ #1 {2}→ 200 {2}\d+ ms/);
  });

  it('filters by event type and assistant', async () => {
    const other = await api(cs, 'POST', '/v1/assistants', { name: 'other', welcomeMessage: 'Yo.' });
    const seen: string[] = [];
    const listener = new Listener(
      parseListenArgs(
        [
          '--url',
          cs.baseUrl,
          '--key',
          cs.key,
          '--forward-to',
          receiver.url,
          '--events',
          'status-update',
          '--assistant',
          assistantId,
        ],
        {},
      ),
      {
        print: () => undefined,
        log: () => undefined,
        onForwarded: (m) => seen.push(`${m.call.assistantId} ${m.type}`),
      },
    );
    void listener.start();
    await listener.ready;
    for (const id of [other.json._id, assistantId]) {
      const call = await api(cs, 'POST', '/v1/calls', { assistantId: id });
      const client = await Client.connect(call.json.join.url);
      client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
      await client.waitFor(() => client.of('assistant-text').some((m) => m.final));
      client.send({ type: 'end' });
      await client.waitClosed();
    }
    await until(() => seen.length === 3, 'three status-updates');
    await listener.stop();
    expect(seen).toEqual([
      `${assistantId} status-update`,
      `${assistantId} status-update`,
      `${assistantId} status-update`,
    ]);
  });

  it('the command: validates its arguments, refuses a wrong key, runs until SIGTERM', async () => {
    const cli = (args: string[], env: Record<string, string> = {}) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(root, 'src/cli.ts'), 'listen', ...args],
        {
          env: { ...process.env, PARLEY_API_KEY: '', PARLEY_URL: '', ...env },
          stdio: 'pipe',
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      return {
        child,
        out: () => ({ stdout, stderr }),
        exit: async () => ((await once(child, 'exit')) as [number | null])[0],
      };
    };
    const noTarget = cli(['--key', 'k']);
    expect(await noTarget.exit()).toBe(2);
    expect(noTarget.out().stderr).toContain('--forward-to is required');
    const badType = cli(['--key', 'k', '--forward-to', receiver.url, '--events', 'call-started']);
    expect(await badType.exit()).toBe(2);
    expect(badType.out().stderr).toContain('unknown event type "call-started"');
    const badUrl = cli(['--key', 'k', '--forward-to', 'localhost:4000']);
    expect(await badUrl.exit()).toBe(2);
    expect(badUrl.out().stderr).toContain('--forward-to must be an http:// or https:// URL');
    const wrongKey = cli(['--url', cs.baseUrl, '--key', 'nope', '--forward-to', receiver.url]);
    expect(await wrongKey.exit()).toBe(1);
    expect(wrongKey.out().stderr).toContain('401');

    const running = cli(['--forward-to', receiver.url, '--secret', SECRET], {
      PARLEY_URL: cs.baseUrl,
      PARLEY_API_KEY: cs.key,
    });
    await until(() => running.out().stderr.includes('connected to'), 'listen to connect', 20_000);
    const call = await api(cs, 'POST', '/v1/calls', { assistantId });
    const client = await Client.connect(call.json.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final));
    client.send({ type: 'end' });
    await client.waitClosed();
    await until(() => running.out().stdout.includes('end-of-call-report'), 'the report line', 20_000);
    running.child.kill('SIGTERM');
    expect(await running.exit()).toBe(0);
    const lines = running.out().stdout.trim().split('\n');
    expect(lines.filter((l) => l.includes(call.json.id))).toHaveLength(
      (await storedEvents(call.json.id)).length,
    );
    expect(lines.every((l) => / → 200 {2}\d+ ms/.test(l))).toBe(true);
  }, 60_000);
});
