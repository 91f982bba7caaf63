import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Config, loadConfig } from '../../src/config/config.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { createParley, type Parley } from '../../src/server.js';
import { createApiKey } from '../../src/tenancy/api-keys.js';
import type { DispatcherOptions } from '../../src/webhooks/delivery/dispatcher.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestServer {
  parley: Parley;
  database: DatabaseHandle;
  testDatabase: TestDatabase;
  config: Config;
  dataDir: string;
  /** Every log line the server wrote, raw. */
  logs: string[];
  /** Creates a team (if new) and a key for it. */
  createKey(team: string): Promise<string>;
  /** Creates a team (if new) and a key for it; returns both. */
  createTeam(team: string): Promise<{ key: string; teamId: string }>;
  request(key: string | undefined, options: InjectOptions): Promise<LightMyRequestResponse>;
  /** Closes the server (and its database) and starts it again on the same data. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(
  env: Record<string, string> = {},
  dispatcher: Partial<DispatcherOptions> = {},
  engine: Pick<NonNullable<Parameters<typeof createParley>[1]>, 'providers' | 'calls'> = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-test-'));
  const testDatabase = await createTestDatabase(dataDir);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_LOG_LEVEL: 'debug',
    PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
    ...env,
  });
  const boot = async () => {
    const database = await testDatabase.open();
    return createParley(config, {
      database,
      logger: createLogger(config.logLevel, sink),
      dispatcher,
      env: { ...process.env, ...env },
      ...engine,
    });
  };
  let parley = await boot();
  const server: TestServer = {
    get parley() {
      return parley;
    },
    get database() {
      return parley.database;
    },
    testDatabase,
    config,
    dataDir,
    logs,
    createKey: async (team) => (await createApiKey(parley.database.db, team)).key,
    createTeam: async (name) => {
      const { key, team } = await createApiKey(parley.database.db, name);
      return { key, teamId: team.id };
    },
    request: (key, options) =>
      parley.app.inject({
        ...options,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(options.headers ?? {}) },
      }),
    restart: async () => {
      await parley.close();
      parley = await boot();
    },
    close: async () => {
      await parley.close();
      await testDatabase.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
