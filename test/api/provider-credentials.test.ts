import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderCredentialStore } from '../../src/tenancy/provider-credentials.js';
import { SecretBox } from '../../src/tenancy/secret-box.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('provider credentials (per-team keys, encrypted at rest)', () => {
  let server: TestServer;
  let key: string;
  let teamId: string;
  let otherKey: string;
  const secret = 'sk-test-0123456789abcdefWXYZ';

  beforeAll(async () => {
    server = await startTestServer({ PARLEY_ALLOW_PRIVATE_WEBHOOKS: '0', OPENAI_API_KEY: 'sk-from-env' });
    ({ key, teamId } = await server.createTeam('acme'));
    otherKey = await server.createKey('other');
  });
  afterAll(async () => server?.close());

  const put = (k: string, provider: string, body: unknown) =>
    server.request(k, {
      method: 'PUT',
      url: `/v1/provider-credentials/${provider}`,
      payload: body as object,
    });

  it('stores a key encrypted, shows only a hint, and never returns it', async () => {
    const res = await put(key, 'openai', { apiKey: secret });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ provider: 'openai', apiKeyHint: '…WXYZ', baseUrl: null });
    expect(res.body).not.toContain(secret);

    const list = await server.request(key, { method: 'GET', url: '/v1/provider-credentials' });
    expect(list.json().data).toHaveLength(1);
    expect(list.json().environment).toContain('openai');
    expect(list.body).not.toContain(secret);

    const { rows } = await sql<{ api_key_encrypted: string }>`
      select api_key_encrypted from provider_credentials where team_id = ${teamId}`.execute(
      server.database.db,
    );
    const stored = rows[0]?.api_key_encrypted ?? '';
    expect(stored.startsWith('v1.')).toBe(true);
    expect(stored).not.toContain(secret);
    expect(server.logs.join('')).not.toContain(secret);
  });

  it("a team's key wins over the environment; the other team sees the environment's", async () => {
    const mine = await server.parley.credentials.lookupFor(teamId);
    expect(mine('openai')).toEqual({ apiKey: secret });
    const { teamId: otherTeam } = await server.createTeam('other');
    const theirs = await server.parley.credentials.lookupFor(otherTeam);
    expect(theirs('openai')).toEqual({ apiKey: 'sk-from-env' });
    expect(theirs('anthropic')).toEqual({});
    const list = await server.request(otherKey, { method: 'GET', url: '/v1/provider-credentials' });
    expect(list.json().data).toEqual([]);
  });

  it("a team's own base URL never receives the operator's key", async () => {
    const { key: k, teamId: t } = await server.createTeam('own-url');
    const res = await put(k, 'openai', { baseUrl: 'https://1.1.1.1/v1' });
    expect(res.statusCode).toBe(200);
    const lookup = await server.parley.credentials.lookupFor(t);
    expect(lookup('openai')).toEqual({ baseUrl: 'https://1.1.1.1/v1', baseUrlFromTeam: true });
  });

  it('a ciphertext moved to another team or sealed under another key does not open', () => {
    const box = new SecretBox('x'.repeat(32));
    const sealed = box.seal('k', 'provider-credential:a:openai');
    expect(box.open(sealed, 'provider-credential:a:openai')).toBe('k');
    expect(() => box.open(sealed, 'provider-credential:b:openai')).toThrow();
    expect(() => new SecretBox('y'.repeat(32)).open(sealed, 'provider-credential:a:openai')).toThrow();
  });

  it('validates input and names the field', async () => {
    const unknown = await put(key, 'nosuch', { apiKey: 'x' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.field).toBe('provider');
    const empty = await put(key, 'anthropic', {});
    expect(empty.statusCode).toBe(400);
    const badUrl = await put(key, 'anthropic', { baseUrl: 'ftp://x' });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json().error.field).toBe('baseUrl');
    const extra = await put(key, 'anthropic', { apiKey: 'k', other: 1 });
    expect(extra.statusCode).toBe(400);
  });

  it('refuses a base URL on a private or loopback address (SSRF), as for webhooks', async () => {
    for (const url of ['http://127.0.0.1:11434/v1', 'http://169.254.169.254/', 'http://localhost:8080']) {
      const res = await put(key, 'openai-compatible', { baseUrl: url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.field).toBe('baseUrl');
    }
  });

  it('null clears a field; DELETE removes the entry; other teams cannot touch it', async () => {
    expect((await put(key, 'openai', { apiKey: null })).json()).toMatchObject({ apiKeyHint: null });
    const mine = await server.parley.credentials.lookupFor(teamId);
    expect(mine('openai')).toEqual({ apiKey: 'sk-from-env' });
    const foreign = await server.request(otherKey, {
      method: 'DELETE',
      url: '/v1/provider-credentials/openai',
    });
    expect(foreign.statusCode).toBe(404);
    const del = await server.request(key, { method: 'DELETE', url: '/v1/provider-credentials/openai' });
    expect(del.statusCode).toBe(204);
  });

  it('a key sealed under another server key is reported and treated as missing, not a failure', async () => {
    await put(key, 'elevenlabs', { apiKey: 'el-secret-5678' });
    const unreadable: string[] = [];
    const otherServer = new ProviderCredentialStore(
      server.database.db,
      new SecretBox('another-server-key-of-32-characters!'),
      {},
      (_team, provider) => unreadable.push(provider),
    );
    const lookup = await otherServer.lookupFor(teamId);
    expect(lookup('elevenlabs')).toEqual({});
    expect(unreadable).toContain('elevenlabs');
  });

  it('keys survive a restart (the server key is kept in the data directory)', async () => {
    await put(key, 'deepgram', { apiKey: 'dg-secret-1234' });
    await server.restart();
    const lookup = await server.parley.credentials.lookupFor(teamId);
    expect(lookup('deepgram')).toEqual({ apiKey: 'dg-secret-1234' });
  });
});
