import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../packages/receiver/src/index.js';
import { api, type CallServer, startCallServer } from '../calls/support.js';
import { runWeatherCall, until, weatherProviders, weatherTool } from './support.js';

/**
 * Every example in examples/receivers/ runs as its own process (as a user would start it, with
 * the built package), receives a real call's deliveries and answers its tool call.
 */
const root = join(import.meta.dirname, '../..');
const SECRET = 'whsec_ZXhhbXBsZS1zZWNyZXQtMDEyMzQ1Njc4OQ==';

let cs: CallServer;
beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'packages/receiver/scripts/build.mjs')], { stdio: 'pipe' });
  cs = await startCallServer(weatherProviders());
}, 120_000);
afterAll(() => cs?.close());

async function startExample(name: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'examples/receivers', name, 'server.mjs')],
    {
      env: { ...process.env, PORT: '0', PARLEY_WEBHOOK_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  await until(() => lines.some((l) => 'listening' in l) || child.exitCode !== null, `${name} to listen`);
  if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}`);
  const port = lines.find((l) => 'listening' in l)?.listening as number;
  return {
    url: `http://127.0.0.1:${port}/webhooks/parley`,
    lines,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

describe.each(['node-http', 'express', 'fastify', 'web'])('examples/receivers/%s', (name) => {
  it('verifies, parses and tracks a real call, answers its tool call, refuses a forged request', async () => {
    const example = await startExample(name);
    try {
      const created = await api(cs, 'POST', '/v1/assistants', {
        name: `example ${name}`,
        welcomeMessage: 'Hello, weather line.',
        assistantServer: { url: example.url, secret: SECRET },
        tools: [{ ...weatherTool(example.url), server: { url: example.url, secret: SECRET } }],
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      const callId = await runWeatherCall(cs, created.json._id); // fails unless the tool was answered
      await until(() => example.lines.some((l) => l.event === 'end-of-call-report'), 'the report');
      const events = example.lines.filter((l) => 'event' in l);
      expect(events.every((l) => l.scheme === 'standard' && l.callId === callId)).toBe(true);
      expect(events.map((l) => l.event)).toContain('tool-calls');
      const report = await api(cs, 'GET', `/v1/calls/${callId}/events?limit=1000`);
      const last = (
        report.json.data as { type: string; event: { messages?: { messageId: string }[] } }[]
      ).find((e) => e.type === 'end-of-call-report');
      const messages = example.lines.filter((l) => l.change === 'message').map((l) => l.messageId);
      expect(messages.length).toBeGreaterThanOrEqual(5);
      expect(messages).toEqual(last?.event.messages?.map((m) => m.messageId));

      // A forged request: signed with another secret.
      const body = JSON.stringify({ message: { type: 'status-update' } });
      const forged = await fetch(example.url, {
        method: 'POST',
        headers: await sign({ secret: 'whsec_b3RoZXI=', id: 'evt_x', type: 'status-update', body }),
        body,
      });
      expect(forged.status).toBe(401);
      expect(await forged.json()).toMatchObject({
        error: { code: 'invalid_signature', field: 'webhook-signature' },
      });
    } finally {
      await example.stop();
    }
  });
});
