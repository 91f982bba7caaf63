import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../../src/contract/conversation-schema.js';
import type { EventMessage } from '../../src/contract/event-schemas.js';
import type { Db } from '../../src/db/database.js';
import { serializeEvent } from '../../src/webhooks/delivery/wire-format.js';
import type { CallContext } from '../../src/webhooks/events/build-event.js';
import { lastConversationOf } from '../../src/webhooks/events/event-storage.js';
import { callContext } from '../support/call-context.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

let server: TestServer;
let key: string;
let teamId: string;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  server = await startTestServer(
    {},
    { retryDelayScale: 0.001, orderingHoldMs: 1500, sweepIntervalMs: 100, leaseMs: 1000 },
  );
  ({ key, teamId } = await server.createTeam('storage'));
});
afterAll(async () => {
  for (const r of receivers) await r.stop();
  await server.close();
});

async function receiver(port = 0): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver().start(port);
  receivers.push(r);
  return r;
}

/** Incompressible text, so that compression in the database cannot hide what is stored. */
const text = (chars: number) =>
  randomBytes(Math.ceil((chars * 3) / 4))
    .toString('base64')
    .slice(0, chars);

const db = (): Db => server.database.db;

function ctxFor(url: string): CallContext {
  return callContext(teamId, {
    assistantServer: { url, messages: ['status-update', 'conversation-update', 'end-of-call-report'] },
  });
}

/**
 * A turn as a call records it: the caller's message, then the reply; every third reply is then
 * interrupted (an earlier message changes, not only the end of the list).
 */
async function turn(ctx: CallContext, i: number, userChars: number): Promise<EventMessage[]> {
  const recorded: EventMessage[] = [];
  const add = async (message: ConversationMessage) => {
    ctx.messages = [...ctx.messages, message];
    recorded.push(...(await server.parley.outbox.record(ctx, [{ type: 'conversation-update' }])));
  };
  await add({
    messageId: `user-${i}`,
    role: 'user',
    text: text(userChars),
    timestamp: Date.now(),
    metrics: {},
  });
  await add({
    messageId: `reply-${i}`,
    role: 'assistant',
    text: `Reply ${i}: ${text(200)}`,
    timestamp: Date.now(),
    metrics: { llm: { responseLatencyMs: i } },
  });
  if (i % 3 === 2) {
    const last = ctx.messages.at(-1) as ConversationMessage;
    ctx.messages = [
      ...ctx.messages.slice(0, -1),
      { ...last, text: last.text.slice(0, 20), interrupted: true },
    ];
    recorded.push(...(await server.parley.outbox.record(ctx, [{ type: 'conversation-update' }])));
  }
  return recorded;
}

/** Bytes the call's events and messages take in the database (after compression). */
async function storedBytes(callId: string): Promise<number> {
  const { rows } = await sql<{ bytes: string | number }>`
    select
      (select coalesce(sum(pg_column_size(payload) + coalesce(pg_column_size(message_refs), 0)), 0)
        from call_events where call_id = ${callId})
      + (select coalesce(sum(pg_column_size(body)), 0) from call_messages where call_id = ${callId}) as bytes`.execute(
    db(),
  );
  return Number(rows[0]?.bytes);
}

/** Every stored event of a call through the paginated API, as `{"message": …}` bodies. */
async function eventsThroughApi(callId: string, limit: number) {
  const bodies = new Map<string, string>();
  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const res = await server.request(key, {
      method: 'GET',
      url: `/v1/calls/${callId}/events?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    });
    expect(res.statusCode).toBe(200);
    const page = res.json() as {
      data: { event: EventMessage; sequence: number }[];
      nextCursor: string | null;
    };
    expect(page.data.length).toBeGreaterThan(0);
    pages.push(page.data.length);
    for (const item of page.data) bodies.set(item.event.id, JSON.stringify({ message: item.event }));
    cursor = page.nextCursor;
  } while (cursor);
  return { bodies, pages };
}

describe('event storage', () => {
  it('stores a long conversation in space linear in it; every reader gets the full-history bodies sent', async () => {
    const r = await receiver();
    const ctx = ctxFor(r.url);
    const sent: EventMessage[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < 160; i++) {
      sent.push(...(await turn(ctx, i, 4_000)));
      if (i === 79 || i === 159) sizes.push(await storedBytes(ctx.call.id));
    }
    const callId = ctx.call.id;
    const conversationBytes = ctx.messages.reduce((n, m) => n + JSON.stringify(m).length, 0);
    const asSentBytes = sent.reduce((n, m) => n + JSON.stringify(m).length, 0);
    const [half, full] = sizes as [number, number];
    // Twice the conversation, twice the storage (the whole history in every row: four times).
    expect(full / half).toBeLessThan(2.3);
    // All of it: the messages once, plus a small envelope per event.
    expect(full).toBeLessThan(1.2 * conversationBytes + sent.length * 1_500);
    console.log(
      `160 turns: conversation ${conversationBytes} B, events as sent ${asSentBytes} B, stored ${full} B (at 80 turns ${half} B)`,
    );

    // The receiver got every event with the whole history as of that event (a duplicate, which
    // at-least-once delivery allows, carries the same bytes).
    const ids = () => new Set(r.accepted().map((e) => e.message.id));
    await r.waitFor(() => ids().size === sent.length, 60_000, 'every event');
    const received = new Map(r.accepted().map((e) => [e.message.id as string, e.rawBody]));
    for (const e of r.events) expect(e.rawBody).toBe(received.get(e.message.id));
    for (const m of sent) expect(received.get(m.id)).toBe(JSON.stringify({ message: m }));
    const last = sent.at(-1) as EventMessage & { messages: ConversationMessage[] };
    expect(last.messages).toHaveLength(320);

    // GET /v1/calls/:id/events, page by page: the same bytes. Pages are cut by size (events of
    // ~1 MB here), each holding at least one event.
    const { bodies, pages } = await eventsThroughApi(callId, 1_000);
    expect(pages.length).toBeGreaterThan(1);
    expect([...bodies.keys()]).toEqual(sent.map((m) => m.id));
    for (const m of sent) expect(bodies.get(m.id)).toBe(received.get(m.id));

    // The delivery log's "event as sent", and a replay: the same bytes again.
    const list = await server.request(key, {
      method: 'GET',
      url: `/v1/webhook-deliveries?callId=${callId}&limit=5`,
    });
    const newest = (list.json().data as { id: string; eventId: string }[])[0] as {
      id: string;
      eventId: string;
    };
    const detail = await server.request(key, { method: 'GET', url: `/v1/webhook-deliveries/${newest.id}` });
    expect(JSON.stringify({ message: detail.json().payload })).toBe(received.get(newest.eventId));
    const copies = () => r.events.filter((e) => e.message.id === newest.eventId && e.answered === 200);
    const before = copies().length;
    const replay = await server.request(key, {
      method: 'POST',
      url: `/v1/webhook-deliveries/${newest.id}/replay`,
    });
    expect(replay.statusCode).toBe(202);
    await r.waitFor(() => copies().length > before, 10_000, 'the replay');
    expect(copies().at(-1)?.rawBody).toBe(received.get(newest.eventId));

    // What recovery finishes an abandoned call with: the last conversation.
    expect(await lastConversationOf(db(), callId)).toEqual(ctx.messages);
  }, 180_000);

  it('reads back any change of the history exactly: an early message edited, reordered keys, a shorter list', async () => {
    const ctx = ctxFor('http://127.0.0.1:9/hook');
    const m = (i: number): ConversationMessage => ({
      messageId: `user-${i}`,
      role: 'user',
      text: `message ${i}`,
      timestamp: 1_000 + i,
      metrics: { timeline: { totalElapsedTimeMs: i } },
    });
    const histories: ConversationMessage[][] = [
      [m(1), m(2), m(3)],
      [m(1), m(2), m(3), m(4)],
      [{ ...m(1), text: 'edited' }, m(2), m(3), m(4)],
      // Same content, keys in another order: another JSON text, which must come back as it was.
      [
        { ...m(1), text: 'edited' },
        { metrics: m(2).metrics, text: m(2).text, timestamp: 1_002, role: 'user', messageId: 'user-2' },
        m(3),
        m(4),
      ],
      [m(1), m(2)],
      [],
      [m(1), m(2), m(3), m(4), m(5)],
    ];
    const sent: EventMessage[] = [];
    for (const history of histories) {
      ctx.messages = history;
      sent.push(...(await server.parley.outbox.record(ctx, [{ type: 'conversation-update' }])));
    }
    // Several in one transaction too.
    ctx.messages = [m(9)];
    sent.push(
      ...(await server.parley.outbox.record(ctx, [{ type: 'conversation-update' }, { type: 'hang' }])),
    );
    const { bodies } = await eventsThroughApi(ctx.call.id, 3);
    expect([...bodies.values()]).toEqual(sent.map((e) => JSON.stringify({ message: e })));
  });

  it('reads rows stored before compaction (full messages in the payload) as before', async () => {
    const ctx = ctxFor('http://127.0.0.1:9/hook');
    const [first] = await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    const message = {
      ...(first as EventMessage),
      id: `evt_${randomBytes(16).toString('hex')}`,
      sequence: 2,
      type: 'conversation-update',
      messages: [{ messageId: 'user-1', role: 'user', text: 'old row', timestamp: 1, metrics: {} }],
    };
    await db()
      .insertInto('call_events')
      .values({
        id: message.id,
        team_id: teamId,
        call_id: ctx.call.id,
        sequence: 2,
        type: 'conversation-update',
        payload: JSON.stringify(message),
      })
      .execute();
    const { bodies } = await eventsThroughApi(ctx.call.id, 10);
    expect(bodies.get(message.id)).toBe(JSON.stringify({ message }));
    expect(await lastConversationOf(db(), ctx.call.id)).toEqual(message.messages);
  });

  it('after a restart, the sweeper sends the stored events with their full history, and the call goes on', async () => {
    const down = await receiver();
    const port = down.port;
    await down.stop();
    const url = `http://127.0.0.1:${port}/hook`;
    const ctx = ctxFor(url);
    // A second call in HMS Sovereign's format: its retries are converted from storage too.
    const hms = ctxFor(url);
    hms.assistant.assistantServer.format = 'hms';
    const sent: EventMessage[] = [];
    const sentHms: EventMessage[] = [];
    for (let i = 0; i < 40; i++) {
      sent.push(...(await turn(ctx, i, 1_000)));
      if (i < 10) sentHms.push(...(await turn(hms, i, 1_000)));
    }
    await server.restart();
    // A new process: no memory of the call's lists; it writes a checkpoint and goes on.
    for (let i = 40; i < 45; i++) sent.push(...(await turn(ctx, i, 1_000)));
    const r = await receiver(port);
    await r.waitFor(
      () => new Set(r.accepted().map((e) => e.message.id)).size === sent.length + sentHms.length,
      60_000,
      'every event after the restart',
    );
    const received = new Map(r.accepted().map((e) => [e.message.id as string, e.rawBody]));
    for (const m of sent) expect(received.get(m.id)).toBe(JSON.stringify({ message: m }));
    for (const m of sentHms) expect(received.get(m.id)).toBe(serializeEvent(m, 'hms'));
    const { bodies } = await eventsThroughApi(ctx.call.id, 7);
    for (const m of sent) expect(bodies.get(m.id)).toBe(received.get(m.id));
  }, 120_000);

  it('an event whose stored messages are gone fails its delivery with the reason; the others go out', async () => {
    const down = await receiver();
    const port = down.port;
    await down.stop();
    const url = `http://127.0.0.1:${port}/hook`;
    const damaged = ctxFor(url);
    const healthy = ctxFor(url);
    const sent: EventMessage[] = [];
    let lost = 0;
    for (let i = 0; i < 3; i++) {
      lost += (await turn(damaged, i, 100)).length;
      sent.push(...(await turn(healthy, i, 100)));
    }
    // Deleted before the restart: a stopping server releases its delivery leases, so the new
    // one claims (and reads) the pending deliveries as soon as it starts.
    await db().deleteFrom('call_messages').where('call_id', '=', damaged.call.id).execute();
    await server.restart();
    const r = await receiver(port);
    await r.waitFor(
      () => new Set(r.accepted().map((e) => e.message.id)).size === sent.length,
      30_000,
      "the healthy call's events",
    );
    const failed = async () =>
      (
        await server.request(key, {
          method: 'GET',
          url: `/v1/webhook-deliveries?callId=${damaged.call.id}&status=failed&limit=100`,
        })
      ).json().data as { lastError: string; eventType: string }[];
    await expect.poll(async () => (await failed()).length, { timeout: 10_000 }).toBe(lost);
    for (const d of await failed()) {
      expect(d.eventType).toBe('conversation-update');
      expect(d.lastError).toMatch(
        /^the stored event could not be read: call WC-.*: stored message .* is missing$/,
      );
    }
    expect(r.accepted().filter((e) => e.message.call.id === damaged.call.id)).toEqual([]);
  }, 60_000);

  it('pages /v1/calls/:id/events by sequence and refuses a bad limit or cursor', async () => {
    const ctx = ctxFor('http://127.0.0.1:9/hook');
    for (let i = 0; i < 5; i++) await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    const get = (query: string) =>
      server.request(key, { method: 'GET', url: `/v1/calls/${ctx.call.id}/events${query}` });
    const first = (await get('?limit=2')).json();
    expect(first.data.map((e: { sequence: number }) => e.sequence)).toEqual([1, 2]);
    expect(first.nextCursor).toBe('2');
    const rest = (await get(`?cursor=${first.nextCursor}`)).json();
    expect(rest.data.map((e: { sequence: number }) => e.sequence)).toEqual([3, 4, 5]);
    expect(rest.nextCursor).toBeNull();
    expect((await get('?limit=5')).json().nextCursor).toBeNull();
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?cursor=abc', 'cursor'],
      ['?cursor=-1', 'cursor'],
      ['?cursor=9999999999', 'cursor'],
    ] as const) {
      const res = await get(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.field, query).toBe(field);
    }
    const other = await server.request(key, { method: 'GET', url: '/v1/calls/WC-nope/events' });
    expect(other.statusCode).toBe(404);
    // Documented: the parameters, their bounds, and the cursor of the next page.
    const doc = (await server.request(undefined, { method: 'GET', url: '/openapi.json' })).json();
    const op = doc.paths['/v1/calls/{id}/events'].get;
    const params = Object.fromEntries(
      op.parameters.map((p: { name: string; schema: unknown }) => [p.name, p.schema]),
    );
    expect(params.limit).toMatchObject({ minimum: 1, maximum: 1000, default: 100 });
    expect(params.cursor).toMatchObject({ pattern: '^[0-9]{1,10}$' });
    expect(Object.keys(op.responses['200'].content['application/json'].schema.properties)).toEqual([
      'data',
      'nextCursor',
    ]);
  });
});
