import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCall } from '../../src/calls/call-store.js';
import { sampleCall } from '../support/samples.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let server: TestServer;
let key: string;
let assistantA: string;
let assistantB: string;
const base = Date.parse('2026-01-01T00:00:00Z');

beforeAll(async () => {
  server = await startTestServer();
  key = await server.createKey('calls');
  const team = await server.database.db
    .selectFrom('teams')
    .select('id')
    .where('name', '=', 'calls')
    .executeTakeFirstOrThrow();
  assistantA = (
    await server.request(key, { method: 'POST', url: '/v1/assistants', payload: { name: 'a' } })
  ).json()._id;
  assistantB = (
    await server.request(key, { method: 'POST', url: '/v1/assistants', payload: { name: 'b' } })
  ).json()._id;
  for (let i = 0; i < 6; i++) {
    await insertCall(
      server.database.db,
      sampleCall({
        teamId: team.id,
        assistantId: i % 2 === 0 ? assistantA : assistantB,
        status: i < 4 ? 'finished' : 'ongoing',
        startAt: new Date(base + i * 60_000).toISOString(),
      }),
    );
  }
});
afterAll(() => server.close());

const list = async (query: string) => {
  const res = await server.request(key, { method: 'GET', url: `/v1/calls${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    data: { id: string; startAt: string; status: string; assistantId: string }[];
    nextCursor: string | null;
  };
};

describe('calls API (read side)', () => {
  it('lists newest first and returns the seed-000 Call object', async () => {
    const { data } = await list('');
    expect(data).toHaveLength(6);
    expect(data.map((c) => c.startAt)).toEqual([...data.map((c) => c.startAt)].sort().reverse());
    const one = await server.request(key, { method: 'GET', url: `/v1/calls/${data[0]?.id}` });
    expect(one.statusCode).toBe(200);
    const call = one.json();
    expect(call.id).toMatch(/^WC-[0-9a-f-]{36}$/);
    for (const field of [
      'teamId',
      'assistantId',
      'callType',
      'direction',
      'startAt',
      'userNumber',
      'assistantNumber',
      'status',
      'phoneCallStatus',
      'phoneCallStatusReason',
      'callEndTriggerBy',
      'assistantCallDuration',
      'analysis',
      'recording',
      'assistantOverrides',
      'metadata',
    ]) {
      expect(call, field).toHaveProperty(field);
    }
  });

  it('filters by status, assistant and time range', async () => {
    expect((await list('?status=ongoing')).data).toHaveLength(2);
    expect((await list(`?assistantId=${assistantA}`)).data.every((c) => c.assistantId === assistantA)).toBe(
      true,
    );
    const from = new Date(base + 2 * 60_000).toISOString();
    const to = new Date(base + 4 * 60_000).toISOString();
    const ranged = await list(`?createdAfter=${from}&createdBefore=${to}`);
    expect(ranged.data.map((c) => c.startAt).sort()).toEqual([
      from,
      new Date(base + 3 * 60_000).toISOString(),
    ]);
  });

  it('paginates with a cursor and combines it with filters', async () => {
    const first = await list('?limit=4');
    expect(first.data).toHaveLength(4);
    expect(first.nextCursor).toBeTruthy();
    const second = await list(`?limit=4&cursor=${first.nextCursor}`);
    expect(second.data).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    const ids = new Set([...first.data, ...second.data].map((c) => c.id));
    expect(ids.size).toBe(6);
  });

  it('rejects bad filters naming the field', async () => {
    for (const [query, field] of [
      ['?status=dancing', 'status'],
      ['?limit=0', 'limit'],
      ['?createdAfter=yesterday', 'createdAfter'],
      ['?cursor=%%%', 'cursor'],
    ]) {
      const res = await server.request(key, { method: 'GET', url: `/v1/calls${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.field, query).toBe(field);
    }
  });
});
