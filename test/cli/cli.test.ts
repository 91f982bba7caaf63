import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServeProcess, startServeProcess } from '../support/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

let dir: string;
let database: TestDatabase;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-cli-'));
  database = await createTestDatabase(dir);
  await (await database.open()).close(); // clone the migrated template into place
});
afterAll(async () => {
  await serve?.stop();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('parley CLI', () => {
  it('migrates, creates a key shown once, and serves the API it unlocks', async () => {
    const migrate = await runCli(['migrate'], database.env);
    expect(migrate.code, migrate.stderr).toBe(0);

    const created = await runCli(['keys', 'create', '--team', 'cli-team'], database.env);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^pk_[A-Za-z0-9_-]{40,}$/);
    expect(created.stderr).toContain('cli-team');

    serve = await startServeProcess(database.env);
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const res = await fetch(`${serve.url}/v1/assistants`, {
      method: 'POST',
      headers: auth,
      body: '{"name":"x"}',
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { _id: string })._id;
    const del = await fetch(`${serve.url}/v1/assistants/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(del.status).toBe(204);
    expect(serve.lines.join('\n')).not.toContain(key);
  });

  it('prints usage and fails on an unknown command or missing --team', async () => {
    expect((await runCli(['frobnicate'], database.env)).code).toBe(2);
    const missing = await runCli(['keys', 'create'], database.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--team');
  });

  it('refuses invalid configuration with a message naming the variable', async () => {
    const bad = await runCli(['migrate'], { ...database.env, PORT: 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('PORT');
  });
});
