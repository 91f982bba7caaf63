import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { api, type CallServer, Client, startCallServer } from '../calls/support.js';
import { SseClient } from './sse-client.js';

/**
 * `GET /v1/events/stream` over real HTTP: a subscriber sees a call's events live, in order,
 * exactly as recorded (and as the webhooks carry them); other teams see nothing.
 */
let cs: CallServer;
let assistantId: string;
let other: { key: string; assistantId: string };
const open: SseClient[] = [];

beforeAll(async () => {
  cs = await startCallServer(
    fakeProviders({
      llm: new FakeLlm({ firstTokenMs: 20, tokenMs: 2 }),
      stt: { finalLatencyMs: 20 },
      tts: { firstChunkMs: 10, chunkGenerationMs: 1, msPerChar: 5 },
    }),
  );
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'live test',
    welcomeMessage: 'Hi there!',
    assistantServer: { url: cs.receiver.url },
  });
  expect(created.status).toBe(201);
  assistantId = created.json._id;
  const key = await cs.server.createKey('someone-else');
  const res = await fetch(`${cs.baseUrl}/v1/assistants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'theirs', welcomeMessage: 'Hello.' }),
  });
  other = { key, assistantId: ((await res.json()) as { _id: string })._id };
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await cs?.close();
});

async function subscribe(
  key: string | undefined,
  query = '',
  headers: Record<string, string> = {},
): Promise<SseClient> {
  const client = await SseClient.open(`${cs.baseUrl}/v1/events/stream${query}`, key, headers);
  open.push(client);
  return client;
}

/** A text call: hello, one user turn, end. Returns its id once the report is recorded. */
async function textCall(key: string, id: string, beforeJoin?: (callId: string) => Promise<void>) {
  const res = await fetch(`${cs.baseUrl}/v1/calls`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ assistantId: id }),
  });
  expect(res.status).toBe(201);
  const call = (await res.json()) as { id: string; join: { url: string } };
  await beforeJoin?.(call.id);
  const client = await Client.connect(call.join.url);
  client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
  await client.waitFor(() => client.of('assistant-text').some((m) => m.final));
  client.send({ type: 'user-text', text: 'hello robot' });
  await client.waitFor(() => client.of('assistant-text').filter((m) => m.final).length >= 2);
  client.send({ type: 'end' });
  await client.waitClosed();
  return call.id;
}

describe('GET /v1/events/stream', () => {
  it("streams a call's events live and in order, as recorded and as the webhooks carry them", async () => {
    const stream = await subscribe(cs.key);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('cache-control')).toContain('no-cache');
    const callId = await textCall(cs.key, assistantId);
    await stream.waitFor(
      () => stream.json().some((e) => e.callId === callId && e.type === 'end-of-call-report'),
      15_000,
      'end-of-call-report',
    );
    const events = stream.json().filter((e) => e.callId === callId);
    // Arrival order is sequence order, with no gap and no duplicate.
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual([
      'status-update',
      'status-update',
      'conversation-update',
      'conversation-update',
      'conversation-update',
      'status-update',
      'end-of-call-report',
    ]);
    expect(events[0].event.call.status).toBe('queued');
    expect(events[1].event.call.status).toBe('ongoing');
    for (const [i, e] of events.entries()) {
      expect(e.teamId).toBe(e.event.call.teamId);
      expect(e.event.id).toMatch(/^evt_/);
      expect(e.event.type).toBe(e.type);
      expect(e.event.sequence).toBe(e.sequence);
      // The SSE `id:` is the event id.
      expect(stream.events.filter((x) => JSON.parse(x.data).callId === callId)[i]?.id).toBe(e.event.id);
    }
    // The same events (ids and bodies) the webhook receiver got.
    await cs.receiver.waitFor(
      () =>
        cs.receiver
          .accepted()
          .some((r) => r.message.call.id === callId && r.message.type === 'end-of-call-report'),
      15_000,
      'webhook report',
    );
    const delivered = cs.receiver
      .accepted()
      .filter((r) => r.message.call.id === callId)
      .sort((a, b) => a.message.sequence - b.message.sequence)
      .map((r) => r.message);
    expect(events.map((e) => e.event)).toEqual(delivered);
  });

  it("another team's subscriber receives nothing of it", async () => {
    const mine = await subscribe(cs.key);
    const theirs = await subscribe(other.key);
    const callId = await textCall(cs.key, assistantId);
    await mine.waitFor(() => mine.json().some((e) => e.callId === callId && e.type === 'end-of-call-report'));
    // The other team's own call comes after ours: its events arriving proves the stream was
    // live while ours happened, and nothing of ours came before them.
    const theirCall = await textCall(other.key, other.assistantId);
    await theirs.waitFor(() =>
      theirs.json().some((e) => e.callId === theirCall && e.type === 'end-of-call-report'),
    );
    expect(theirs.json().every((e) => e.callId === theirCall)).toBe(true);
    expect(mine.json().some((e) => e.callId === theirCall)).toBe(false);
  });

  it('?callId= narrows the stream to one call', async () => {
    let filtered: SseClient | undefined;
    const first = await textCall(cs.key, assistantId, async (callId) => {
      filtered = await subscribe(cs.key, `?callId=${encodeURIComponent(callId)}`);
    });
    const stream = filtered as SseClient;
    await stream.waitFor(() => stream.json().some((e) => e.type === 'end-of-call-report'));
    const second = await textCall(cs.key, assistantId);
    const all = await subscribe(cs.key);
    const third = await textCall(cs.key, assistantId);
    await all.waitFor(() => all.json().some((e) => e.callId === third && e.type === 'end-of-call-report'));
    expect(new Set(stream.json().map((e) => e.callId))).toEqual(new Set([first]));
    // Subscribed just after the call was created: from whichever event came next, in order.
    const sequences = stream.json().map((e) => e.sequence as number);
    expect(sequences).toEqual(sequences.map((_, i) => (sequences[0] as number) + i));
    expect(second).not.toBe(first);
  });

  it("with ?callId=, Last-Event-ID resumes after that event: the call's later events first, then live", async () => {
    const everything = await subscribe(cs.key);
    const callId = await textCall(cs.key, assistantId);
    await everything.waitFor(() =>
      everything.json().some((e) => e.callId === callId && e.type === 'end-of-call-report'),
    );
    const seen = everything.json().filter((e) => e.callId === callId);
    const third = seen[2].event.id as string;
    const resumed = await subscribe(cs.key, `?callId=${encodeURIComponent(callId)}`, {
      'last-event-id': third,
    });
    await resumed.waitFor(() => resumed.json().some((e) => e.type === 'end-of-call-report'));
    expect(resumed.json().map((e) => e.event)).toEqual(seen.slice(3).map((e) => e.event));
    expect(resumed.events.map((e) => e.id)).toEqual(seen.slice(3).map((e) => e.event.id));
    // Another team's event id, or a made-up one, replays nothing.
    const foreign = await subscribe(cs.key, `?callId=${encodeURIComponent(callId)}`, {
      'last-event-id': 'evt_00000000000000000000000000000000',
    });
    const after = await textCall(cs.key, assistantId);
    await everything.waitFor(() =>
      everything.json().some((e) => e.callId === after && e.type === 'end-of-call-report'),
    );
    expect(foreign.events).toEqual([]);
  });

  it('refuses a missing or unknown key with the JSON 401, and a bad callId with 400', async () => {
    const none = await subscribe(undefined);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.events[0]?.data ?? '{}').error.code).toBe('unauthorized');
    const bad = await subscribe('not-a-key-at-all-1234');
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.events[0]?.data ?? '{}').error.code).toBe('unauthorized');
    const long = await subscribe(cs.key, `?callId=${'x'.repeat(101)}`);
    expect(long.status).toBe(400);
  });

  it('unsubscribes when the client goes away', async () => {
    const before = cs.server.parley.live.subscriberCount();
    const stream = await subscribe(cs.key);
    await vi.waitFor(() => expect(cs.server.parley.live.subscriberCount()).toBe(before + 1));
    await stream.close();
    await vi.waitFor(() => expect(cs.server.parley.live.subscriberCount()).toBe(before));
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${cs.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    expect(doc.paths['/v1/events/stream']?.get?.summary).toMatch(/Server-Sent Events/);
  });
});
