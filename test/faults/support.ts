import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../../src/db/database.js';
import { type ServeProcess, startServeProcess } from '../support/cli-process.js';
import { testDatabaseUrl } from '../support/test-database.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * The fault suite needs PostgreSQL: its faults are PostgreSQL's (terminated backends, cancelled
 * statements) and two Parley processes cannot share one embedded PGlite database.
 */
export const skipReason = 'the fault suite needs PostgreSQL (PARLEY_TEST_DATABASE_URL): skipped on PGlite';
export const needsPostgres = !testDatabaseUrl;

/**
 * A schema of its own whose every connection (pools, LISTEN) carries one `application_name`,
 * so that a fault hits this test's backends and nobody else's.
 */
export interface FaultDatabase {
  schema: string;
  applicationName: string;
  /** For `parley serve` children. */
  env: Record<string, string>;
  /** A handle of the test's own (not a Parley process's), to read what was stored. */
  db: DatabaseHandle['db'];
  /** `pg_terminate_backend` on every Parley backend of this test; returns how many. */
  terminateAll(): Promise<number>;
  drop(): Promise<void>;
}

export async function createFaultDatabase(): Promise<FaultDatabase> {
  const url = testDatabaseUrl as string;
  const id = randomBytes(6).toString('hex');
  const schema = `f_${id}`;
  const applicationName = `parley_fault_${id}`;
  const handle = await openDatabase({ databaseUrl: url, schema, poolSize: 2 });
  await migrateToLatest(handle.db, schema);
  const admin = new pg.Client({ connectionString: url, application_name: 'parley_fault_admin' });
  await admin.connect();
  const sep = url.includes('?') ? '&' : '?';
  return {
    schema,
    applicationName,
    env: {
      DATABASE_URL: `${url}${sep}options=-c%20search_path%3D${schema}&application_name=${applicationName}`,
    },
    db: handle.db,
    terminateAll: async () => {
      const { rows } = await admin.query<{ ok: boolean }>(
        'select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1',
        [applicationName],
      );
      return rows.filter((r) => r.ok).length;
    },
    drop: async () => {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db);
      await handle.close();
      await admin.end();
    },
  };
}

export const KEY = 'fault-suite-key-0123456789';

/**
 * Two `parley serve` processes on one fault database (each with a data directory of its own),
 * with a webhook receiver; `cleanups` gets what undoes it (the servers are stopped by the caller,
 * which knows how: a stalled one needs SIGCONT first).
 */
export async function startTwoServers(
  heartbeatMs: number,
  cleanups: (() => Promise<void>)[],
): Promise<{ database: FaultDatabase; receiver: WebhookReceiver; a: ServeProcess; b: ServeProcess }> {
  const database = await createFaultDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'parley-faults-'));
  const receiver = await new WebhookReceiver().start();
  cleanups.push(async () => {
    await receiver.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });
  const env = {
    ...database.env,
    PARLEY_BOOTSTRAP_KEY: KEY,
    PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
    PARLEY_CALL_HEARTBEAT_MS: String(heartbeatMs),
  };
  const [a, b] = await Promise.all(
    ['a', 'b'].map((name) => startServeProcess({ ...env, PARLEY_DATA_DIR: join(dir, name) })),
  );
  if (!a || !b) throw new Error('servers did not start');
  return { database, receiver, a, b };
}

export async function apiOf(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** A scripted assistant that answers every "yes" (text-only calls: no speech needed). */
export const scriptedAssistant = (receiverUrl: string) => ({
  name: 'faults',
  welcomeMessage: 'Hello, fault suite',
  assistantProvider: 'scripted',
  dialog: {
    start: 'ask',
    nodes: { ask: { say: 'Say yes again.', expect: [{ keywords: ['yes'], next: 'ask' }] } },
  },
  assistantServer: { url: receiverUrl },
});

/** A text-only web-call client on a `parley serve` process. */
export class TextCall {
  readonly texts: string[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly id: string,
    readonly ws: WebSocket,
  ) {
    ws.on('message', (data, binary) => {
      if (binary) return;
      const m = JSON.parse(String(data)) as { type: string; text?: string; final?: boolean };
      if (m.type === 'assistant-text' && m.final && m.text) this.texts.push(m.text);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
    ws.on('error', () => {});
  }

  static async start(server: ServeProcess, assistantId: string): Promise<TextCall> {
    const created = await apiOf(server.url, 'POST', '/v1/calls', { assistantId });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const join = new URL(created.json.join.url);
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}${join.pathname}${join.search}`);
    const call = new TextCall(created.json.id, ws);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false }));
    await call.waitFor(() => call.texts.length > 0, 10_000, 'the welcome message');
    return call;
  }

  /**
   * Creates a call through `apiBase` (a server or a load balancer) and joins it at the join URL
   * exactly as returned (behind a balancer, `PARLEY_PUBLIC_URL` is the balancer's).
   */
  static async startVia(apiBase: string, assistantId: string): Promise<TextCall> {
    const created = await apiOf(apiBase, 'POST', '/v1/calls', { assistantId });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const ws = new WebSocket(created.json.join.url as string);
    const call = new TextCall(created.json.id, ws);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false }));
    await call.waitFor(() => call.texts.length > 0, 10_000, 'the welcome message');
    return call;
  }

  send(message: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async waitFor(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`call ${this.id}: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary event fields
export const eventsOf = (receiver: WebhookReceiver, callId: string): any[] =>
  receiver
    .accepted()
    .filter((e) => e.message?.call?.id === callId)
    .map((e) => e.message)
    .sort((a, b) => a.sequence - b.sequence);

/**
 * The suite's invariants for one call: exactly one terminal status-update and one
 * end-of-call-report reached the receiver, every stored event reached it (sequence numbers
 * 1..N, N the stored count), and the stored call has ended.
 */
export async function expectCallComplete(
  receiver: WebhookReceiver,
  db: FaultDatabase['db'],
  callId: string,
): Promise<void> {
  const events = eventsOf(receiver, callId);
  const terminal = events.filter(
    (m) => m.type === 'status-update' && m.call.status !== 'queued' && m.call.status !== 'ongoing',
  );
  expect(terminal, `terminal status-updates of ${callId}`).toHaveLength(1);
  expect(
    events.filter((m) => m.type === 'end-of-call-report'),
    `reports of ${callId}`,
  ).toHaveLength(1);
  const stored = await db
    .selectFrom('call_events')
    .select(['id', 'sequence'])
    .where('call_id', '=', callId)
    .orderBy('sequence')
    .execute();
  expect(stored.map((e) => e.sequence)).toEqual(stored.map((_, i) => i + 1));
  expect(events.map((m) => m.id)).toEqual(stored.map((e) => e.id));
  const row = await db.selectFrom('calls').select(['status']).where('id', '=', callId).executeTakeFirst();
  expect(row?.status).toBe('finished');
}

/** Resolves once `test` holds, polling every 50 ms; fails after `timeoutMs`. */
export async function until(test: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const alive = (p: ServeProcess) => p.child.exitCode === null && p.child.signalCode === null;
