import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseListenArgs } from '../../src/listen/listen-options.js';
import { Listener } from '../../src/listen/listener.js';
import type { SyncRelay } from '../../src/listen/sync-relay.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { api, type CallServer, Client, startCallServer } from '../calls/support.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { startPackageReceiver, until, weatherTool } from './support.js';

/**
 * `parley listen --tools` (the real command, as a process): the team's tool calls are answered
 * by the local receiver through the listener, within the budget; killing the listener while a
 * tool call waits fails that call at once, and the next one goes to the configured URL again.
 */
const SECRET = 'local-secret-7';
const root = join(import.meta.dirname, '../..');

let cs: CallServer;
let local: Awaited<ReturnType<typeof startPackageReceiver>>;
let configured: WebhookReceiver; // the tool's configured server (a "deployed" one)
let assistantId = '';

beforeAll(async () => {
  cs = await startCallServer(
    fakeProviders({
      llm: new FakeLlm({
        firstTokenMs: 5,
        tokenMs: 1,
        respond: (messages) => {
          const last = messages.at(-1);
          if (last?.role === 'tool') return `Tool said: ${last.content}`;
          if (last?.role === 'user' && /weather/.test(last.content)) {
            return { toolCalls: [{ name: 'getWeather', arguments: { city: 'Oslo' } }] };
          }
          return `You said: ${last?.content ?? ''}.`;
        },
      }),
      tts: { firstChunkMs: 5, msPerChar: 5 },
    }),
  );
  local = await startPackageReceiver(SECRET);
  configured = await new WebhookReceiver().start();
  configured.respond = (e) =>
    e.message?.type === 'tool-calls'
      ? { status: 200, body: JSON.stringify({ result: 'from the configured server' }) }
      : undefined;
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'tools via listen',
    welcomeMessage: 'Hi.',
    tools: [weatherTool(configured.url)],
  });
  assistantId = created.json._id;
}, 60_000);
afterAll(async () => {
  await cs?.close();
  await local?.close();
  await configured?.stop();
});

function startListen() {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'src/cli.ts'),
      'listen',
      '--forward-to',
      local.url,
      '--tools',
      '--assistant',
      assistantId,
    ],
    {
      env: { ...process.env, PARLEY_URL: cs.baseUrl, PARLEY_API_KEY: cs.key, PARLEY_WEBHOOK_SECRET: SECRET },
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
  return { child, out: () => ({ stdout, stderr }) };
}

async function askWeather(client: Client, expected: RegExp) {
  const before = client.of('assistant-text').length;
  client.send({ type: 'user-text', text: 'weather please' });
  await client.waitFor(
    () =>
      client
        .of('assistant-text')
        .slice(before)
        .some((m) => m.final && expected.test(m.text)),
    20_000,
    `a reply matching ${expected}`,
  );
}

describe('parley listen --tools', () => {
  it('answers tool calls through the local receiver; killed mid-call, the tool call falls back', async () => {
    const listen = startListen();
    await until(() => listen.out().stderr.includes('--tools'), 'the tools connection', 20_000);
    const call = await api(cs, 'POST', '/v1/calls', { assistantId });
    const client = await Client.connect(call.json.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final));

    // 1. Answered by the local receiver (signed with the listener's secret), well within 10 s.
    const started = Date.now();
    await askWeather(client, /sunny in Oslo/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const toolCalls = local.deliveries.filter((d) => d.event.message.type === 'tool-calls');
    expect(toolCalls).toHaveLength(1);
    expect(toolCalls[0]?.verified?.scheme).toBe('standard');
    expect(configured.events.filter((e) => e.message?.type === 'tool-calls')).toHaveLength(0);
    await until(() => /tool-calls\s+\S+ #\d+ {2}→ 200 .*\(answered\)/.test(listen.out().stdout), 'the line');

    // 2. The listener dies while the local receiver is still working on a tool call.
    local.hold = true;
    const waiting = askWeather(client, /Tool said: .*(closed|failed|error)/i);
    await until(() => local.held > 0, 'the tool call to reach the local receiver');
    const killedAt = Date.now();
    const exited = once(listen.child, 'exit');
    listen.child.kill('SIGKILL');
    await exited;
    await waiting; // the model is told the tool failed: the call goes on
    expect(Date.now() - killedAt).toBeLessThan(5_000); // at once, not after the 10 s budget
    local.hold = false;

    // 3. Listener gone: the configured server answers again.
    await askWeather(client, /from the configured server/);
    client.send({ type: 'end' });
    await client.waitClosed();
    const log = await api(cs, 'GET', `/v1/webhook-deliveries?callId=${call.json.id}&eventType=tool-calls`);
    const rows = log.json.data as { id: string; status: string }[];
    expect(rows.map((d) => d.status).sort()).toEqual(['delivered', 'delivered', 'failed']);
    // The log says which requests the listener answered.
    const urls: string[] = [];
    for (const row of rows) {
      const detail = await api(cs, 'GET', `/v1/webhook-deliveries/${row.id}`);
      urls.push(detail.json.attempts[0].url);
    }
    expect(urls.sort()).toEqual([configured.url, 'parley listen', 'parley listen'].sort());
  }, 90_000);

  it('answers assistant-request through the local receiver while listening, the team server after', async () => {
    configured.respond = (e) =>
      e.message?.type === 'assistant-request'
        ? {
            status: 200,
            body: JSON.stringify({ assistant: { name: 'deployed', welcomeMessage: 'Deployed hello.' } }),
          }
        : undefined;
    expect((await api(cs, 'PATCH', '/v1/team', { server: { url: configured.url } })).status).toBe(200);
    const welcome = async () => {
      const call = await api(cs, 'POST', '/v1/calls', {});
      expect(call.status, JSON.stringify(call.json)).toBe(201);
      const client = await Client.connect(call.json.join.url);
      client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
      await client.waitFor(() => client.of('assistant-text').some((m) => m.final));
      client.send({ type: 'end' });
      await client.waitClosed();
      return client.of('assistant-text').find((m) => m.final)?.text;
    };
    const listener = new Listener(
      parseListenArgs(
        ['--url', cs.baseUrl, '--key', cs.key, '--forward-to', local.url, '--secret', SECRET, '--tools'],
        {},
      ),
      { print: () => undefined, log: () => undefined },
    );
    void listener.start();
    await listener.ready;
    expect(await welcome()).toBe('Local hello.');
    await listener.stop();
    await until(() => (cs.server.parley.outbox.syncRelay as SyncRelay).size === 0, 'the listener to be gone');
    expect(await welcome()).toBe('Deployed hello.');
  });
});
