import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCall } from '../../src/calls/call-store.js';
import { sampleCall } from '../support/samples.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let server: TestServer;
let keyA: string;
let keyB: string;
let assistantB: string;
let callB: string;

beforeAll(async () => {
  server = await startTestServer();
  keyA = await server.createKey('team-a');
  keyB = await server.createKey('team-b');
  assistantB = (
    await server.request(keyB, { method: 'POST', url: '/v1/assistants', payload: { name: 'b' } })
  ).json()._id;
  const teamB = await server.database.db
    .selectFrom('teams')
    .select('id')
    .where('name', '=', 'team-b')
    .executeTakeFirstOrThrow();
  callB = (await insertCall(server.database.db, sampleCall({ teamId: teamB.id, assistantId: assistantB })))
    .id;
});
afterAll(() => server.close());

describe('authentication', () => {
  it('401s without a key, with a malformed header and with an unknown key', async () => {
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer pk_unknown' }]) {
      const res = await server.parley.app.inject({ method: 'GET', url: '/v1/assistants', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  it('serves health, OpenAPI and docs without a key', async () => {
    const health = await server.parley.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', database: { ok: true } });
    const openapi = await server.parley.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(openapi.statusCode).toBe(200);
    expect(Object.keys(openapi.json().paths)).toEqual(
      expect.arrayContaining(['/v1/assistants', '/v1/assistants/{id}', '/v1/calls']),
    );
    const docs = await server.parley.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('<html');
  });
});

describe('team isolation', () => {
  it("hides team B's assistants from team A (404, never 403)", async () => {
    const list = await server.request(keyA, { method: 'GET', url: '/v1/assistants' });
    expect(list.json().data.map((a: { _id: string }) => a._id)).not.toContain(assistantB);
    for (const [method, payload] of [
      ['GET', undefined],
      ['PATCH', { name: 'stolen' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await server.request(keyA, {
        method,
        url: `/v1/assistants/${assistantB}`,
        ...(payload ? { payload } : {}),
      });
      expect(res.statusCode, method).toBe(404);
    }
    const still = await server.request(keyB, { method: 'GET', url: `/v1/assistants/${assistantB}` });
    expect(still.statusCode).toBe(200);
    expect(still.json().name).toBe('b');
  });

  it("hides team B's calls from team A", async () => {
    const list = await server.request(keyA, { method: 'GET', url: '/v1/calls' });
    expect(list.json().data).toEqual([]);
    expect((await server.request(keyA, { method: 'GET', url: `/v1/calls/${callB}` })).statusCode).toBe(404);
    expect((await server.request(keyB, { method: 'GET', url: `/v1/calls/${callB}` })).statusCode).toBe(200);
  });
});
