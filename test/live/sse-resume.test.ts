import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { EventMessage } from '../../src/contract/event-schemas.js';
import { createLogger } from '../../src/logger.js';
import { createParley, type Parley } from '../../src/server.js';
import { createApiKey } from '../../src/tenancy/api-keys.js';
import type { CallContext, EventSpec } from '../../src/webhooks/events/build-event.js';
import { callContext } from '../support/call-context.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { SseClient } from './sse-client.js';

/**
 * The live stream's back-pressure over real HTTP: a burst of several MB reaches a client that
 * reads (it used to be dropped past 1 MB unsent), and a `?callId=` client resumes with
 * `Last-Event-ID` past an event of more than 1 MB (which used to drop it on every attempt).
 */
let parley: Parley;
let database: TestDatabase;
let dataDir: string;
let baseUrl: string;
let key: string;
let teamId: string;
const open: SseClient[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'parley-sse-'));
  database = await createTestDatabase(dataDir);
  const config = loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'silent' });
  parley = await createParley(config, {
    database: await database.open(),
    logger: createLogger('silent'),
  });
  await parley.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(parley.app.server.address() as AddressInfo).port}`;
  const created = await createApiKey(parley.database.db, 'sse');
  key = created.key;
  teamId = created.team.id;
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await parley.close();
  await database.drop();
  await rm(dataDir, { recursive: true, force: true });
});

async function subscribe(callId: string, lastEventId?: string): Promise<SseClient> {
  const client = await SseClient.open(
    `${baseUrl}/v1/events/stream?callId=${encodeURIComponent(callId)}`,
    key,
    lastEventId ? { 'last-event-id': lastEventId } : {},
  );
  open.push(client);
  return client;
}

/** Records a conversation-update whose newest message has `chars` characters. */
async function say(ctx: CallContext, chars: number): Promise<EventMessage> {
  const n = ctx.messages.length;
  ctx.messages = [
    ...ctx.messages,
    {
      messageId: `user-${n}`,
      role: 'user',
      text: randomBytes(chars).toString('base64').slice(0, chars),
      timestamp: Date.now(),
      metrics: {},
    },
  ];
  const [event] = await parley.outbox.record(ctx, [{ type: 'conversation-update' }]);
  return event as EventMessage;
}

/** An error event of about `chars` characters (its text is not part of the conversation). */
const bigError = (chars: number): EventSpec => ({
  type: 'error',
  error: { type: 'llm', code: 'x', message: 'y'.repeat(chars), provider: 'p', retryable: false },
});

describe('GET /v1/events/stream back-pressure', () => {
  it('delivers a live burst of 2.5 MB, published in one tick, to a client that reads', async () => {
    const ctx = callContext(teamId, {});
    const client = await subscribe(ctx.call.id);
    // 40 events of ~64 KB or more, committed together and published in one tick.
    const events = await Promise.all(
      Array.from({ length: 40 }, (_, i) => parley.outbox.record(ctx, [bigError(64_000 + i)])),
    );
    // Concurrent records share transactions: sequence order is the order of record.
    const ids = events
      .flat()
      .sort((a, b) => a.sequence - b.sequence)
      .map((e) => e.id);
    await client.waitFor(() => client.events.length === 40, 20_000, 'the whole burst');
    expect(client.json().map((e) => e.event.id)).toEqual(ids);
    expect(client.ended).toBe(false);
  });

  it('resumes with Last-Event-ID past an event of 1.5 MB, page by page, then goes live', async () => {
    const ctx = callContext(teamId, {});
    const [first] = await parley.outbox.record(ctx, [{ type: 'status-update' }]);
    const recorded: EventMessage[] = [];
    recorded.push(...(await parley.outbox.record(ctx, [bigError(1_500_000)])));
    for (let i = 0; i < 120; i++) recorded.push(await say(ctx, 20));
    const client = await subscribe(ctx.call.id, (first as EventMessage).id);
    await client.waitFor(() => client.events.length === recorded.length, 20_000, 'every missed event');
    expect(client.events.map((e) => e.id)).toEqual(recorded.map((m) => m.id));
    // As sent: the whole history as of each event.
    expect(client.json().map((e) => JSON.stringify(e.event))).toEqual(recorded.map((m) => JSON.stringify(m)));
    // Then live.
    const live = await say(ctx, 10);
    await client.waitFor(() => client.events.length === recorded.length + 1, 10_000, 'the live event');
    expect(client.events.at(-1)?.id).toBe(live.id);
  });
});
