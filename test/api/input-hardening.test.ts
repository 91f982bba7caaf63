import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** Issue 11 items 11, 12, 14 and 15: hostile input gets a 4xx in the documented shape, and logs leak nothing. */
let server: TestServer;
let key: string;

beforeAll(async () => {
  server = await startTestServer();
  key = await server.createKey('hardening');
});
afterAll(() => server.close());

type Shape = { error: { code: string; message: string; field?: string } };
const expectError = (res: { statusCode: number; body: string }, status: number, field?: string) => {
  expect(res.statusCode, res.body).toBe(status);
  const body = JSON.parse(res.body) as Shape;
  expect(Object.keys(body), res.body).toEqual(['error']);
  expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  if (field !== undefined) expect(body.error.field, res.body).toBe(field);
  return body.error;
};

const post = (url: string, payload: unknown) =>
  server.request(key, {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

describe('strings the database cannot store (item 12)', () => {
  it('NUL in a name, metadata value or key, customer: 400 naming the field', async () => {
    expectError(await post('/v1/assistants', { name: 'a\u0000b' }), 400, 'name');
    const created = await post('/v1/assistants', { name: 'ok' });
    expect(created.statusCode).toBe(201);
    const id = created.json()._id;
    expectError(
      await post('/v1/calls', { assistantId: id, metadata: { note: 'x\u0000' } }),
      400,
      'metadata.note',
    );
    expectError(await post('/v1/calls', { assistantId: id, metadata: { 'k\u0000': 1 } }), 400, 'metadata');
    expectError(
      await post('/v1/calls', { assistantId: id, customer: { name: '\u0000' } }),
      400,
      'customer.name',
    );
    expectError(
      await post('/v1/calls', {
        assistantId: id,
        assistantOverrides: { variableValues: { a: ['ok', 'x\u0000'] } },
      }),
      400,
      'assistantOverrides.variableValues.a.1',
    );
  });

  it('lone surrogates in JSON fields: 400 naming the field', async () => {
    expectError(await post('/v1/assistants', '{"name": "a\\ud800b"}'), 400, 'name');
    expectError(
      await post('/v1/assistants', '{"name": "x", "welcomeMessage": "\\udc00"}'),
      400,
      'welcomeMessage',
    );
    // A well-formed pair is fine.
    expect((await post('/v1/assistants', '{"name": "\\ud83d\\ude00"}')).statusCode).toBe(201);
  });

  it('%00 in ids and filters: 400 naming the parameter', async () => {
    expectError(await server.request(key, { method: 'GET', url: '/v1/calls/%00' }), 400, 'id');
    expectError(await server.request(key, { method: 'GET', url: '/v1/assistants/a%00b' }), 400, 'id');
    expectError(
      await server.request(key, { method: 'GET', url: '/v1/calls?assistantId=%00' }),
      400,
      'assistantId',
    );
    expectError(
      await server.request(key, { method: 'GET', url: '/v1/webhook-deliveries?callId=%00' }),
      400,
      'callId',
    );
  });

  it('out-of-range dates and cursors: 400 naming the parameter', async () => {
    for (const date of ['9999-12-31T23:59:60Z']) {
      expectError(
        await server.request(key, {
          method: 'GET',
          url: `/v1/calls?createdAfter=${encodeURIComponent(date)}`,
        }),
        400,
        'createdAfter',
      );
    }
    const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    for (const bad of [
      cursor('-271821-04-20T00:00:00.000Z|x'),
      cursor('+275760-09-13T00:00:00.000Z|x'),
      cursor('2026-01-01T00:00:00.000Z|a\u0000'),
      cursor('2026-01-01T00:00:00.000Z|\ud800'),
    ]) {
      for (const url of ['/v1/calls', '/v1/assistants']) {
        expectError(await server.request(key, { method: 'GET', url: `${url}?cursor=${bad}` }), 400, 'cursor');
      }
    }
  });

  it('JSON nested 10,000 deep: 400', async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    expectError(await post('/v1/calls', `{"assistant": {"name": "x"}, "metadata": ${deep}}`), 400);
    expectError(await post('/v1/assistants', `{"name": "x", "dialog": ${deep}}`), 400);
  });
});

describe('database errors do not log query parameters (item 11)', () => {
  it('a failing query logs neither its parameters nor the secrets in them', async () => {
    const { sql } = await import('kysely');
    const secret = 'whsec-never-in-a-log-0123456789';
    await expect(sql`select ${`a\u0000${secret}`}::text`.execute(server.database.db)).rejects.toThrow();
    const logs = server.logs.join('');
    let thrown: unknown;
    try {
      await sql`select ${`a\u0000${secret}`}::text`.execute(server.database.db);
    } catch (error) {
      thrown = error;
    }
    server.parley.logger.error({ err: thrown }, 'probe');
    const after = server.logs.join('').slice(logs.length);
    expect(after).toContain('probe');
    expect(after).not.toContain(secret);
  });
});

describe('signed recording URLs in logs (item 14)', () => {
  it('the sig of a recording URL is redacted in the request log', async () => {
    const before = server.logs.length;
    const sig = 'SIGNATURE-never-logged-0123456789';
    await server.request(undefined, {
      method: 'GET',
      url: `/recordings/WC-00000000-0000-0000-0000-000000000000.wav?expires=9999999999&sig=${sig}`,
    });
    const lines = server.logs.slice(before).join('');
    expect(lines).toContain('/recordings/');
    expect(lines).not.toContain(sig);
    expect(lines).toContain('sig=[redacted]');
  });
});

describe('every error in the documented shape (item 15)', () => {
  it('an over-long path parameter: 414 in the error shape', async () => {
    const e = expectError(
      await server.request(key, { method: 'POST', url: `/v1/calls/${'x'.repeat(600)}/end` }),
      414,
    );
    expect(e.code).toBe('uri_too_long');
  });

  it('a malformed URL: 400 in the error shape', async () => {
    expectError(await server.request(key, { method: 'GET', url: '/v1/calls/%E0%A4%A' }), 400);
  });

  it('a 5,000-character path: a JSON error, not the static handler', async () => {
    const res = await server.request(undefined, { method: 'GET', url: `/${'a'.repeat(5000)}` });
    expect(res.statusCode).not.toBe(403);
    expectError(res, res.statusCode);
    const file = await server.request(undefined, { method: 'GET', url: `/${'a'.repeat(5000)}.js` });
    expectError(file, 404);
  });
});

describe('secrets and header values that HTTP cannot carry', () => {
  it('are refused when stored (400 naming the field), not at every later delivery', async () => {
    const server_ = { url: 'https://example.com/hook' };
    expectError(
      await post('/v1/assistants', { name: 's', assistantServer: { ...server_, secret: 'clé-secrète' } }),
      400,
      'assistantServer.secret',
    );
    expectError(
      await post('/v1/assistants', {
        name: 's',
        assistantServer: { ...server_, headers: { 'x-a': 'one\r\ntwo' } },
      }),
      400,
      'assistantServer.headers.x-a',
    );
    const inline = { name: 'inline', assistantServer: { ...server_, secret: ' padded ' } };
    expectError(await post('/v1/calls', { assistant: inline }), 400, 'assistant.assistantServer.secret');
    const team = await server.request(key, {
      method: 'PATCH',
      url: '/v1/team',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ server: { ...server_, secret: 'naïve' } }),
    });
    expectError(team, 400, 'server.secret');
    // Visible ASCII (spaces inside a header value) is fine.
    const ok = await post('/v1/assistants', {
      name: 's',
      assistantServer: {
        ...server_,
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        headers: { 'x-a': 'one two' },
      },
    });
    expect(ok.statusCode, ok.body).toBe(201);
  });
});
