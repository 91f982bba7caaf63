import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AdminOperationError, callAdmin } from '../../src/admin/admin-client.js';
import type { LockInfo } from '../../src/db/data-dir-lock.js';
import { DEMO_ASSISTANT_NAME } from '../../src/engine/demo-assistant.js';
import { runCli, type ServeProcess, startServeProcess } from '../support/cli-process.js';
import { createTestDatabase, type TestDatabase, testDatabaseUrl } from '../support/test-database.js';

/**
 * The README's quick start, as a new user runs it: `parley serve` in one terminal, `parley keys
 * create --team default` in another while it runs, from the same directory, with no
 * configuration (the embedded database in `./.parley`), or with `DATABASE_URL` on PostgreSQL.
 */
const onPostgres = Boolean(testDatabaseUrl);
let cwd: string;
let database: TestDatabase | undefined;
let env: Record<string, string>;
let serve: ServeProcess | undefined;
const keys: string[] = [];

const cli = (args: string[]) => runCli(args, env, { cwd, timeoutMs: 60_000 });

async function createKey(): Promise<string> {
  const created = await cli(['keys', 'create', '--team', 'default']);
  expect(created.code, created.stderr).toBe(0);
  const key = created.stdout.trim();
  expect(key).toMatch(/^pk_[A-Za-z0-9_-]{40,}$/);
  expect(created.stderr).toMatch(/team default \([0-9a-f]{24}\): store this key now/);
  keys.push(key);
  return key;
}

async function assistantsOf(url: string, key: string) {
  const res = await fetch(`${url}/v1/assistants`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as { data?: { _id: string; name: string }[] } };
}

/** Every key created so far opens the default team's assistants on `url`. */
async function expectAllKeysWork(url: string) {
  for (const key of keys) {
    const { status, body } = await assistantsOf(url, key);
    expect(status).toBe(200);
    expect(body.data?.filter((a) => a.name === DEMO_ASSISTANT_NAME)).toHaveLength(1);
  }
}

const lockOf = async (): Promise<LockInfo> =>
  JSON.parse(await readFile(join(cwd, '.parley', 'parley.lock'), 'utf8')) as LockInfo;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'parley-first-run-'));
  // No configuration at all, as in the README: PORT and HOST only so that runs do not collide.
  env = { PARLEY_DATA_DIR: '', DATABASE_URL: '', PARLEY_BOOTSTRAP_KEY: '', PORT: '0', HOST: '127.0.0.1' };
  if (testDatabaseUrl) {
    database = await createTestDatabase(cwd);
    await (await database.open()).close(); // the schema of this file
    env = { ...env, ...database.env };
  }
});

afterAll(async () => {
  await serve?.stop();
  await database?.drop();
  await rm(cwd, { recursive: true, force: true });
});

describe(`the README quick start (${onPostgres ? 'PostgreSQL' : 'embedded database'})`, () => {
  it('tells a first start how to get a key; a key created while serving works at once and after a restart', async () => {
    serve = await startServeProcess(env, { cwd });
    await vi.waitFor(() => expect(serve?.stderr()).toContain('npx parley keys create --team default'), {
      timeout: 30_000,
    });

    const key = await createKey();
    await expectAllKeysWork(serve.url);
    expect(serve.lines.join('\n')).not.toContain(key);

    await serve.stop();
    serve = await startServeProcess(env, { cwd });
    await expectAllKeysWork(serve.url);
    // A key exists now: no first-run hint.
    expect(serve.stderr()).not.toContain('has no API key yet');
  }, 120_000);

  it('rejects an invalid team name, naming the field', async () => {
    const bad = await cli(['keys', 'create', '--team', 'x'.repeat(201)]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('team');
  }, 60_000);

  it.skipIf(onPostgres)(
    'refuses a second server on the same data directory, naming the holder; the first keeps serving',
    async () => {
      if (!serve) throw new Error('the first test starts the server');
      const started = Date.now();
      const second = await runCli(['serve'], env, { cwd, timeoutMs: 20_000 });
      expect(second.code, 'the second server must exit by itself').not.toBeNull();
      expect(second.code).not.toBe(0);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(second.stderr).toContain(`in use by process ${serve.child.pid}`);
      expect(second.stderr).toContain(serve.url);

      const lock = await lockOf();
      expect(lock).toMatchObject({ pid: serve.child.pid, command: 'serve', address: serve.url });
      await createKey(); // through the first server, still working
      await expectAllKeysWork(serve.url);
    },
    60_000,
  );

  it.skipIf(onPostgres)(
    'offers the admin channel to this OS user only, and validates what it is sent',
    async () => {
      const lock = await lockOf();
      if (!lock.socket) throw new Error('the serving process records its admin socket');
      expect(lock.socket).toBe(join(cwd, '.parley', 'run', 'admin.sock'));
      expect((await stat(lock.socket)).mode & 0o777).toBe(0o600);
      expect((await stat(join(cwd, '.parley', 'run'))).mode & 0o777).toBe(0o700);
      const error = await callAdmin(lock.socket, 'keys.create', { team: '' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AdminOperationError);
      expect(error).toMatchObject({ status: 400, field: 'team' });
    },
  );

  it.skipIf(onPostgres)(
    'after a SIGKILL, the lock is taken over (by the CLI, then the server) and nothing is lost',
    async () => {
      if (!serve) throw new Error('the first test starts the server');
      const [key] = keys as [string];
      const created = await fetch(`${serve.url}/v1/assistants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{"name":"kept"}',
      });
      expect(created.status).toBe(201);
      const { _id } = (await created.json()) as { _id: string };
      const killedPid = serve.child.pid;
      await serve.stop('SIGKILL');
      expect((await lockOf()).pid).toBe(killedPid); // left behind by the killed server

      await createKey(); // no server: the CLI takes the stale lock over and writes itself
      serve = await startServeProcess(env, { cwd });
      expect((await lockOf()).pid).toBe(serve.child.pid);
      await expectAllKeysWork(serve.url);
      expect(keys).toHaveLength(3);
      const { body } = await assistantsOf(serve.url, key);
      expect(body.data?.map((a) => a._id)).toContain(_id);

      await serve.stop();
      await expect(stat(join(cwd, '.parley', 'parley.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    },
    120_000,
  );
});
