import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

const BOOTSTRAP = 'bootstrap-key-0123456789abcdef';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ PARLEY_BOOTSTRAP_KEY: BOOTSTRAP });
});
afterAll(() => server.close());

describe('persistence', () => {
  it('keeps assistants and keys across a restart', async () => {
    const key = await server.createKey('durable');
    const created = (
      await server.request(key, { method: 'POST', url: '/v1/assistants', payload: { name: 'survivor' } })
    ).json();
    await server.restart();
    const got = await server.request(key, { method: 'GET', url: `/v1/assistants/${created._id}` });
    expect(got.statusCode).toBe(200);
    expect(got.json().name).toBe('survivor');
    const boot = await server.request(BOOTSTRAP, { method: 'GET', url: '/v1/assistants' });
    expect(boot.statusCode).toBe(200);
  });
});

describe('secrets in logs and responses', () => {
  it('never writes an API key, webhook secret or header value to a log line or response', async () => {
    const key = await server.createKey('quiet');
    const secrets = ['s3cr3t-webhook-value', 'header-value-xyz', 'tool-secret-abc'];
    const responses: string[] = [];
    const send = async (k: string | undefined, opts: Parameters<TestServer['request']>[1]) => {
      const res = await server.request(k, opts);
      responses.push(res.body);
      return res;
    };
    const created = await send(key, {
      method: 'POST',
      url: '/v1/assistants',
      payload: {
        name: 'logged',
        assistantServer: {
          url: 'https://example.com/h',
          secret: secrets[0],
          headers: { Authorization: secrets[1] },
        },
        tools: [
          { type: 'function', name: 't', server: { url: 'https://example.com/t', secret: secrets[2] } },
        ],
      },
    });
    const id = created.json()._id;
    await send(key, { method: 'GET', url: `/v1/assistants/${id}` });
    await send(key, {
      method: 'PATCH',
      url: `/v1/assistants/${id}`,
      payload: { assistantServer: { secret: secrets[0] } },
    });
    await send(key, { method: 'GET', url: '/v1/assistants' });
    await send(key, {
      method: 'POST',
      url: '/v1/assistants',
      payload: { name: 1, assistantServer: { secret: secrets[0] } },
    });
    await send(`${key}x`, { method: 'GET', url: '/v1/assistants' });
    await send(BOOTSTRAP, { method: 'GET', url: `/v1/assistants?key=${key}` });

    expect(server.logs.length).toBeGreaterThan(10);
    const logText = server.logs.join('');
    const responseText = responses.join('');
    for (const secret of [key, BOOTSTRAP, ...secrets]) {
      expect(logText, 'log').not.toContain(secret);
      expect(responseText, 'response').not.toContain(secret);
    }
    // request ids are on every request log line
    const requestLines = server.logs.map((l) => JSON.parse(l)).filter((l) => l.req);
    expect(requestLines.length).toBeGreaterThan(0);
    expect(requestLines.every((l) => typeof l.reqId === 'string')).toBe(true);
  });
});
