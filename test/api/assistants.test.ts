import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

let server: TestServer;
let key: string;

beforeAll(async () => {
  server = await startTestServer();
  key = await server.createKey('acme');
});
afterAll(() => server.close());

const post = (body: unknown) =>
  server.request(key, { method: 'POST', url: '/v1/assistants', payload: body as object });

describe('assistants API', () => {
  it('creates a complete, working assistant from just a name', async () => {
    const res = await post({ name: 'x' });
    expect(res.statusCode).toBe(201);
    const a = res.json();
    expect(a._id).toMatch(/^[0-9a-f]{24}$/);
    for (const field of [
      'name',
      'welcomeMessage',
      'welcomeMessageMode',
      'welcomeMessageInterruptionsEnabled',
      'endCallMessage',
      'endCallPhrases',
      'bargeInEnabled',
      'assistantProvider',
      'assistantModel',
      'assistantSystemPrompt',
      'assistantTemperature',
      'assistantMaxTokens',
      'assistantAnalysis',
      'assistantServer',
      'config',
      'tools',
      'maxDurationSeconds',
      'idleTimeoutSeconds',
    ]) {
      expect(a, field).toHaveProperty(field);
    }
    expect(a.config.speech.stt.provider).toBeTruthy();
    expect(a.config.speech.tts.provider).toBeTruthy();
    expect(a.welcomeMessageMode).toBe('automatic');
  });

  it('lists, gets, updates and deletes', async () => {
    const created = (await post({ name: 'crud', endCallPhrases: ['bye now'] })).json();
    const list = await server.request(key, { method: 'GET', url: '/v1/assistants' });
    expect(list.statusCode).toBe(200);
    expect(list.json().data.map((a: { _id: string }) => a._id)).toContain(created._id);

    const patched = await server.request(key, {
      method: 'PATCH',
      url: `/v1/assistants/${created._id}`,
      payload: { assistantTemperature: 0.2, config: { speech: { tts: { voice: 'kal' } } } },
    });
    expect(patched.statusCode).toBe(200);
    const p = patched.json();
    expect(p.assistantTemperature).toBe(0.2);
    expect(p.config.speech.tts.voice).toBe('kal');
    expect(p.config.speech.tts.provider).toBe('flite'); // merged, not replaced
    expect(p.endCallPhrases).toEqual(['bye now']);

    const got = await server.request(key, { method: 'GET', url: `/v1/assistants/${created._id}` });
    expect(got.json()).toEqual(p);

    const del = await server.request(key, { method: 'DELETE', url: `/v1/assistants/${created._id}` });
    expect(del.statusCode).toBe(204);
    const gone = await server.request(key, { method: 'GET', url: `/v1/assistants/${created._id}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('not_found');
  });

  it('fallbacks: set per kind, removed with null (JSON merge), null refused elsewhere', async () => {
    const created = (
      await post({
        name: 'fallbacks',
        assistantFallback: { provider: 'anthropic', model: 'claude-haiku-4-5' },
        config: { speech: { stt: { provider: 'deepgram', fallback: { provider: 'pocketsphinx' } } } },
      })
    ).json();
    expect(created.assistantFallback).toEqual({ provider: 'anthropic', model: 'claude-haiku-4-5' });
    const patch = (payload: object) =>
      server.request(key, { method: 'PATCH', url: `/v1/assistants/${created._id}`, payload });
    const removed = await patch({ assistantFallback: null, config: { speech: { stt: { fallback: null } } } });
    expect(removed.statusCode).toBe(200);
    expect(removed.json().assistantFallback).toBeUndefined();
    expect(removed.json().config.speech.stt).toMatchObject({ provider: 'deepgram' });
    expect(removed.json().config.speech.stt.fallback).toBeUndefined();
    const refused = await patch({ welcomeMessage: null });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.field).toBe('welcomeMessage');
    const badProvider = await patch({ assistantFallback: { provider: 'nope', model: 'x' } });
    expect(badProvider.statusCode).toBe(400);
    expect(badProvider.json().error.field).toContain('assistantFallback');
  });

  it('paginates with a cursor', async () => {
    const team = await server.createKey('paging');
    for (let i = 0; i < 5; i++) {
      await server.request(team, { method: 'POST', url: '/v1/assistants', payload: { name: `a${i}` } });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/assistants?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await server.request(team, { method: 'GET', url });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((a: { name: string }) => a.name));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['a4', 'a3', 'a2', 'a1', 'a0']);
  });

  it.each([
    [{ name: 'x', assistantTemperature: '0.5' }, 'assistantTemperature'],
    [{ name: 'x', assistantTemperature: 3 }, 'assistantTemperature'],
    [{ name: 'x', welcomeMessageMode: 'sometimes' }, 'welcomeMessageMode'],
    [{ name: 'x', assistantProvider: 'skynet' }, 'assistantProvider'],
    [{ welcomeMessage: 'hi' }, 'name'],
    [{ name: 'x', bargeInEnabled: 'yes' }, 'bargeInEnabled'],
    [{ name: 'x', assistantServer: { url: 'ftp://example.com' } }, 'assistantServer.url'],
    [{ name: 'x', assistantServer: { messages: ['status-update', 'nope'] } }, 'assistantServer.messages.1'],
    [{ name: 'x', tools: [{ type: 'function', name: 'bad name' }] }, 'tools.0.name'],
    [{ name: 'x', colour: 'red' }, 'colour'],
    [{ name: 'x', assistantMaxTokens: 1.5 }, 'assistantMaxTokens'],
  ])('rejects %j naming the field', async (body, field) => {
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('invalid_request');
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('rejects an invalid PATCH naming the field and leaves the assistant unchanged', async () => {
    const created = (await post({ name: 'keep' })).json();
    const res = await server.request(key, {
      method: 'PATCH',
      url: `/v1/assistants/${created._id}`,
      payload: { welcomeMessageMode: 'loud' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('welcomeMessageMode');
    const got = await server.request(key, { method: 'GET', url: `/v1/assistants/${created._id}` });
    expect(got.json().welcomeMessageMode).toBe('automatic');
  });

  it('refuses malformed JSON and oversized bodies', async () => {
    const bad = await server.request(key, {
      method: 'POST',
      url: '/v1/assistants',
      payload: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_request');
    const huge = await post({ name: 'x', assistantSystemPrompt: 'a'.repeat(2_000_000) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('payload_too_large');
  });

  it('keeps secrets write-only, also across a PATCH that sends back what GET returned', async () => {
    const created = await post({
      name: 'secretive',
      assistantServer: {
        url: 'https://hooks.example.com/p',
        secret: 'whsec_c2VjcmV0',
        headers: { 'X-Api-Key': 'hdr-value-1' },
      },
      tools: [
        {
          type: 'function',
          name: 'lookup',
          server: {
            url: 'https://tools.example.com',
            secret: 'tool-secret-9',
            headers: { 'X-T': 'tool-hdr-2' },
          },
        },
      ],
    });
    const text = created.body;
    for (const secret of ['whsec_c2VjcmV0', 'hdr-value-1', 'tool-secret-9', 'tool-hdr-2'])
      expect(text).not.toContain(secret);
    const a = created.json();
    expect(a.assistantServer.headers['X-Api-Key']).toBe('[redacted]');
    expect(a.assistantServer.secret).toBeUndefined();

    const roundTrip = { ...a };
    delete roundTrip._id;
    delete roundTrip.createdAt;
    delete roundTrip.updatedAt;
    const patched = await server.request(key, {
      method: 'PATCH',
      url: `/v1/assistants/${a._id}`,
      payload: roundTrip,
    });
    expect(patched.statusCode).toBe(200);
    const stored = await server.database.db
      .selectFrom('assistants')
      .select('spec')
      .where('id', '=', a._id)
      .executeTakeFirstOrThrow();
    const spec = stored.spec as {
      assistantServer: { secret: string; headers: Record<string, string> };
      tools: { server: { secret: string; headers: Record<string, string> } }[];
    };
    expect(spec.assistantServer.secret).toBe('whsec_c2VjcmV0');
    expect(spec.assistantServer.headers['X-Api-Key']).toBe('hdr-value-1');
    expect(spec.tools[0]?.server.secret).toBe('tool-secret-9');
    expect(spec.tools[0]?.server.headers['X-T']).toBe('tool-hdr-2');
  });
});
