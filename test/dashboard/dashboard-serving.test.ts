import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_DASHBOARD_DIR, isDashboardPage } from '../../src/dashboard-server/dashboard-routes.js';
import { createLogger } from '../../src/logger.js';
import { createParley, type Parley } from '../../src/server.js';
import { createApiKey } from '../../src/tenancy/api-keys.js';
import { fakeProviders } from '../../src/testing/fake-providers.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** The dashboard as `parley serve` serves it: static files, cache headers, SPA fallback, 503. */
interface Served {
  parley: Parley;
  key: string;
  close(): Promise<void>;
}

async function serve(dashboardDir: string): Promise<Served> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-dashboard-'));
  const db: TestDatabase = await createTestDatabase(dataDir);
  const config = loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'warn' });
  const parley = await createParley(config, {
    database: await db.open(),
    logger: createLogger(config.logLevel, new Writable({ write: (_c, _e, done) => done() })),
    providers: fakeProviders(),
    dashboard: { dir: dashboardDir },
  });
  const { key } = await createApiKey(parley.database.db, 'dash');
  return {
    parley,
    key,
    close: async () => {
      await parley.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const INDEX =
  '<!doctype html><html><body><div id="root"></div><script src="/assets/app-3f9a1c.js"></script></body></html>';

let built: Served;
let unbuilt: Served;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-dashboard-build-'));
  await mkdir(join(dir, 'assets'));
  await mkdir(join(dir, 'sdk'));
  await writeFile(join(dir, 'index.html'), INDEX);
  await writeFile(join(dir, 'assets', 'app-3f9a1c.js'), 'console.log("app")');
  await writeFile(join(dir, 'sdk', 'parley.js'), 'export const sdk = 1;');
  built = await serve(dir);
  unbuilt = await serve(join(dir, 'does-not-exist'));
});

afterAll(async () => {
  await built?.close();
  await unbuilt?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (s: Served, url: string, withKey = false) =>
  s.parley.app.inject({
    method: 'GET',
    url,
    headers: withKey ? { authorization: `Bearer ${s.key}` } : {},
  });

describe('dashboard at /', () => {
  it('serves index.html at / with no-cache', async () => {
    const res = await get(built, '/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toBe(INDEX);
    const direct = await get(built, '/index.html');
    expect(direct.statusCode).toBe(200);
    expect(direct.headers['cache-control']).toBe('no-cache');
  });

  it('caches hashed assets for a year; the SDK revalidates', async () => {
    const asset = await get(built, '/assets/app-3f9a1c.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const sdk = await get(built, '/sdk/parley.js');
    expect(sdk.statusCode).toBe(200);
    expect(sdk.body).toBe('export const sdk = 1;');
    expect(sdk.headers['cache-control']).toBe('no-cache');
  });

  it('answers unknown page paths with index.html (the app routes in the browser)', async () => {
    for (const path of [
      '/talk/66a1b2c3d4e5f60718293a4b',
      '/calls/WC-123',
      '/assistants',
      '/settings?tab=x',
    ]) {
      const res = await get(built, path);
      expect(res.statusCode, path).toBe(200);
      expect(res.headers['content-type'], path).toMatch(/^text\/html/);
      expect(res.headers['cache-control'], path).toBe('no-cache');
      expect(res.body, path).toBe(INDEX);
    }
    const head = await built.parley.app.inject({ method: 'HEAD', url: '/calls' });
    expect(head.statusCode).toBe(200);
  });

  it('keeps API, docs and file 404s as JSON, and other routes working', async () => {
    for (const [path, withKey] of [
      ['/v1/nope', true],
      ['/v1/nope', false],
      ['/assets/missing-123.js', false],
      ['/sdk/missing.js', false],
      ['/favicon.ico', false],
      ['/call/x', false],
      ['/health/x', false],
      ['/recordings', false],
    ] as const) {
      const res = await get(built, path, withKey);
      expect([401, 404], path).toContain(res.statusCode);
      expect(res.headers['content-type'], path).toMatch(/^application\/json/);
      expect(res.json().error.code, path).toMatch(/not_found|unauthorized/);
    }
    const post = await built.parley.app.inject({ method: 'POST', url: '/talk/x', payload: {} });
    expect(post.statusCode).toBe(404);
    expect(post.json().error.code).toBe('not_found');

    expect((await get(built, '/v1/nope', true)).statusCode).toBe(404);
    expect((await get(built, '/v1/assistants', true)).statusCode).toBe(200);
    expect((await get(built, '/v1/assistants')).statusCode).toBe(401);
    expect((await get(built, '/health')).json()).toMatchObject({});
    expect((await get(built, '/openapi.json')).json().openapi).toBe('3.1.0');
    const call = await get(built, '/call');
    expect(call.statusCode).toBe(200);
    expect(call.body).not.toBe(INDEX);
    const docs = await get(built, '/docs');
    expect([200, 302]).toContain(docs.statusCode);
    expect(docs.body).not.toBe(INDEX);
  });
});

describe('dashboard not built', () => {
  it('answers its pages 503 with how to build it; the API still works', async () => {
    for (const path of ['/', '/talk/abc', '/calls']) {
      const res = await get(unbuilt, path);
      expect(res.statusCode, path).toBe(503);
      expect(res.headers['content-type'], path).toMatch(/^text\/html/);
      expect(res.body, path).toContain('npm run build');
    }
    expect((await get(unbuilt, '/v1/assistants', true)).statusCode).toBe(200);
    expect((await get(unbuilt, '/v1/nope', true)).json().error.code).toBe('not_found');
    expect((await get(unbuilt, '/assets/app.js')).statusCode).toBe(404);
  });
});

describe('where the dashboard is looked for', () => {
  it("is this package's dist/dashboard, whatever the working directory", () => {
    expect(DEFAULT_DASHBOARD_DIR).toBe(resolve(import.meta.dirname, '../../dist/dashboard'));
  });

  it('treats only GET/HEAD page paths as dashboard pages', () => {
    expect(isDashboardPage('GET', '/')).toBe(true);
    expect(isDashboardPage('GET', '/calls/WC-1?x=1')).toBe(true);
    expect(isDashboardPage('GET', '/callsign')).toBe(true);
    expect(isDashboardPage('GET', '/call')).toBe(false);
    expect(isDashboardPage('GET', '/v1/calls')).toBe(false);
    expect(isDashboardPage('GET', '/docs/json')).toBe(false);
    expect(isDashboardPage('GET', '/openapi.json')).toBe(false);
    expect(isDashboardPage('GET', '/app.webmanifest')).toBe(false);
    expect(isDashboardPage('POST', '/talk/x')).toBe(false);
  });
});
