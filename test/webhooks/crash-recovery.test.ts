import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServeProcess, startServeProcess } from '../support/cli-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('crash recovery', () => {
  it('delivers every recorded event after the server is SIGKILLed and restarted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-crash-'));
    const database = await createTestDatabase(dir);
    await (await database.open()).close();
    cleanups.push(async () => {
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    });

    // A receiver that is down while the first process runs.
    const probe = await new WebhookReceiver().start();
    const port = probe.port;
    await probe.stop();

    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '../support/fixtures/record-events-then-hang.mjs')],
      {
        env: { ...process.env, ...database.env, RECEIVER_URL: `http://127.0.0.1:${port}/hook` },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const { callId, ids } = JSON.parse(line) as { callId: string; ids: string[] };
    expect(ids).toHaveLength(20);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    const receiver = await new WebhookReceiver().start(port);
    cleanups.push(() => receiver.stop());
    const serve: ServeProcess = await startServeProcess({
      ...database.env,
      PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
    });
    cleanups.push(() => serve.stop());

    await receiver.waitFor(() => receiver.accepted().length === 20, 30_000, 'all 20 events after restart');
    const got = receiver.accepted();
    expect(got.map((e) => e.message.id)).toEqual(ids);
    expect(got.every((e) => e.message.call.id === callId)).toBe(true);
    expect(got.map((e) => e.message.sequence)).toEqual(ids.map((_, i) => i + 1));
    expect(receiver.schemaErrors).toEqual([]);
  });
});
