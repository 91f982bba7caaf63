import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock } from '../../src/db/data-dir-lock.js';
import { runCli, type ServeProcess, startServeProcess } from '../support/cli-process.js';
import { createTestDatabase, type TestDatabase, testDatabaseUrl } from '../support/test-database.js';

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
  }, 90_000); // three Node processes, each loading the whole server: slow on a busy machine

  it.skipIf(Boolean(testDatabaseUrl))(
    'waits for a holder of the data directory that has no admin channel yet, then does the work itself',
    async () => {
      await serve?.stop();
      serve = undefined;
      // Another process starting up (it holds the directory, no admin socket yet): here, this one.
      const lock = await acquireDataDirLock(dir, 'serve');
      let waiting!: () => void;
      const saidSo = new Promise<void>((resolve) => {
        waiting = resolve;
      });
      const pending = runCli(['keys', 'create', '--team', 'patient'], database.env, {
        timeoutMs: 60_000,
        onStderr: (text) => {
          if (text.includes(`waiting for process ${process.pid} (parley serve)`)) waiting();
        },
      });
      await saidSo;
      await lock.release();
      const created = await pending;
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout.trim()).toMatch(/^pk_/);
      expect(created.stderr).toContain('team patient');
    },
    60_000,
  );

  it.skipIf(Boolean(testDatabaseUrl))(
    'says so when it starts a new embedded database (run from the wrong directory?)',
    async () => {
      const elsewhere = join(dir, 'elsewhere');
      const created = await runCli(['keys', 'create', '--team', 'lost'], { PARLEY_DATA_DIR: elsewhere });
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toContain(
        `there was no database in ${join(elsewhere, 'db')}: created a new one`,
      );
      const again = await runCli(['keys', 'create', '--team', 'lost'], { PARLEY_DATA_DIR: elsewhere });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).not.toContain('created a new one');
    },
    90_000,
  );

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
