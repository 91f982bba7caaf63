import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ensureDemoAssistant } from '../../src/admin/first-run.js';
import { encodeWav } from '../../src/audio/wav.js';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_DASHBOARD_DIR } from '../../src/dashboard-server/dashboard-routes.js';
import { migrateToLatest, openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import type { LocalProviders } from '../../src/providers/local-providers.js';
import { createParley, type Parley } from '../../src/server.js';
import { createFliteTts } from '../../src/tts/flite/index.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

export const CHROMIUM = '/usr/bin/chromium';
export const DASHBOARD_INDEX = join(DEFAULT_DASHBOARD_DIR, 'index.html');
export const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');

/**
 * Whether this run can drive the dashboard, and if not, why. Outside CI a missing build or
 * browser skips; in CI (CI=true) nothing skips: the test then fails on what is missing.
 */
export function browserTestSkipReason(): string | undefined {
  if (process.env.PARLEY_TEST_DATABASE_URL) {
    return 'runs once per suite, in the PGlite pass: it tests the dashboard, not the database';
  }
  if (process.env.CI === 'true') return undefined;
  if (!existsSync(DASHBOARD_INDEX)) return `${DASHBOARD_INDEX} is missing: run \`npm run build\``;
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: run scripts/install-system-deps.sh`;
  return undefined;
}

/**
 * The caller's voice for Chromium's fake microphone (which loops the file): `leadMs` of
 * silence, `text` spoken by flite (kal16, 16 kHz mono), `tailMs` of silence.
 */
export async function writeCallerWav(
  path: string,
  text: string,
  o: { leadMs: number; tailMs: number },
): Promise<number> {
  const tts = await createFliteTts({ voice: 'kal16' });
  const chunks: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { sampleRate: 16000 }, new AbortController().signal))
    chunks.push(chunk);
  const speech = chunks.reduce((n, c) => n + c.length, 0);
  const lead = Math.round((16000 * o.leadMs) / 1000);
  const samples = new Int16Array(lead + speech + Math.round((16000 * o.tailMs) / 1000));
  let at = lead;
  for (const c of chunks) {
    samples.set(c, at);
    at += c.length;
  }
  await writeFile(path, encodeWav(samples, 16000));
  return Math.round((speech / 16000) * 1000);
}

/** Headless Chromium with a fake microphone playing `wavPath` (absolute), in a fresh profile. */
export async function launchBrowser(
  wavPath: string,
): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${wavPath}`,
      // The assistant's voice plays without waiting for a gesture the test's click may not count as.
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

export interface DashboardServer {
  parley: Parley;
  baseUrl: string;
  key: string;
  demoAssistantId: string;
  receiver: WebhookReceiver;
  /** Server log lines (for failure messages). */
  logs: string[];
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }>;
  close(): Promise<void>;
}

/**
 * Parley as `parley serve` runs it (dashboard at `/`, offline speech providers, the demo
 * assistant of the team `default`, a bootstrap key), on its own embedded database (PGlite)
 * whatever the suite's database, and listening on 127.0.0.1. Webhooks go to a loopback receiver.
 */
export async function startDashboardServer(providers: LocalProviders): Promise<DashboardServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-browser-'));
  const key = `pk_browser_${Date.now()}_test_key`;
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_LOG_LEVEL: 'info',
    PARLEY_BOOTSTRAP_KEY: key,
    PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const template = process.env.PARLEY_TEST_PGLITE_TEMPLATE;
  const database = await openDatabase({
    dataDir,
    ...(template ? { loadDataDir: new Blob([await readFile(template)]) } : {}),
  });
  await migrateToLatest(database.db);
  let baseUrl = '';
  const parley = await createParley(config, {
    database,
    logger: createLogger(config.logLevel, sink),
    providers,
    calls: { publicUrl: () => baseUrl },
  });
  const demoAssistantId = (await ensureDemoAssistant(parley.database.db)) as string;
  await parley.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(parley.app.server.address() as AddressInfo).port}`;
  const receiver = await new WebhookReceiver().start();
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
    return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, any> };
  };
  return {
    parley,
    baseUrl,
    key,
    demoAssistantId,
    receiver,
    logs,
    api,
    close: async () => {
      await parley.close();
      await receiver.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
