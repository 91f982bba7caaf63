// `/v1/phone-numbers` through the real server: fields checked with a 400 naming the field,
// credentials against the carrier's fields, secrets write-only and sealed at rest, one number
// per team, the carrier's console setup with this server's public URLs, team isolation.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedKey } from '../../src/config/stored-key.js';
import { PhoneNumberStore } from '../../src/phone-numbers/phone-number-store.js';
import { SecretBox } from '../../src/tenancy/secret-box.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const TOKEN = 'twilio-auth-token-0123456789abcdef';
const twilio = (over: Record<string, unknown> = {}) => ({
  number: '+14155550100',
  provider: 'twilio',
  name: 'Front desk',
  credentials: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: TOKEN },
  ...over,
});

describe('phone numbers API', () => {
  let server: TestServer;
  let key: string;
  let teamId: string;
  let otherKey: string;
  let assistantId: string;
  let store: PhoneNumberStore;

  beforeAll(async () => {
    server = await startTestServer({ PARLEY_PUBLIC_URL: 'https://parley.example.com' });
    ({ key, teamId } = await server.createTeam('phones'));
    otherKey = await server.createKey('other-phones');
    const res = await server.request(key, {
      method: 'POST',
      url: '/v1/assistants',
      payload: { name: 'desk' },
    });
    assistantId = res.json()._id ?? res.json().id;
    // The server's own key (kept in the data directory), as the server opens it.
    store = new PhoneNumberStore(
      server.database.db,
      new SecretBox(await storedKey(server.dataDir, 'secret.key', undefined)),
    );
  });
  afterAll(async () => server?.close());

  const call = (k: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    server.request(k, { method, url, ...(payload ? { payload } : {}) });

  it('creates a number, shows the carrier setup with the public URLs, and never returns or stores the secret in the clear', async () => {
    const res = await call(key, 'POST', '/v1/phone-numbers', twilio({ assistantId }));
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      number: '+14155550100',
      provider: 'twilio',
      name: 'Front desk',
      assistantId,
      server: null,
      fallbackDestination: null,
      apiBaseUrl: null,
      credentials: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: '…cdef' },
    });
    const base = `https://parley.example.com/telephony/twilio/${body.id}`;
    expect(body.carrierSetup).toMatchObject({
      provider: 'twilio',
      displayName: 'Twilio',
      inboundUrl: `${base}/inbound`,
      statusUrl: `${base}/status`,
    });
    expect(body.carrierSetup.steps.map((s: { url?: string }) => s.url)).toEqual(
      expect.arrayContaining([`${base}/inbound`, `${base}/status`]),
    );
    expect(res.body).not.toContain(TOKEN);
    const { rows } = await sql<{ credentials_sealed: string }>`
      select credentials_sealed from phone_numbers where id = ${body.id}`.execute(server.database.db);
    expect(rows[0]?.credentials_sealed.startsWith('v1.')).toBe(true);
    expect(rows[0]?.credentials_sealed).not.toContain(TOKEN);
    const account = await store.account(
      { id: body.id, teamId, number: body.number, provider: 'twilio' },
      'https://api.twilio.com',
    );
    expect(account).toEqual({
      credentials: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: TOKEN },
      apiBaseUrl: 'https://api.twilio.com',
    });
    expect(server.logs.join('')).not.toContain(TOKEN);
  });

  it('refuses invalid input with a 400 naming the field', async () => {
    const cases: [object, string, RegExp][] = [
      [twilio({ number: '4155550100' }), 'number', /E\.164/],
      [twilio({ number: '+0155550100' }), 'number', /E\.164/],
      [twilio({ provider: 'sinch' }), 'provider', /must be one of/],
      [twilio({ credentials: { accountSid: 'AC1' } }), 'credentials.authToken', /required for Twilio/],
      [
        twilio({ credentials: { accountSid: 'AC1', authToken: 'x', apiKey: 'y' } }),
        'credentials.apiKey',
        /not a Twilio credential/,
      ],
      [twilio({ assistantId: 'nope' }), 'assistantId', /not an assistant of this team/],
      [
        twilio({ fallbackDestination: { type: 'number', number: '12' } }),
        'fallbackDestination.number',
        /E\.164/,
      ],
      [twilio({ apiBaseUrl: 'ftp://x.example.com' }), 'apiBaseUrl', /./],
      [twilio({ extra: 1 }), 'extra', /not a known field/],
    ];
    for (const [payload, field, message] of cases) {
      const res = await call(key, 'POST', '/v1/phone-numbers', payload);
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error.field, JSON.stringify(payload)).toBe(field);
      expect(res.json().error.message).toMatch(message);
    }
  });

  it('keeps one number once per team (409), but another team may hold it', async () => {
    const again = await call(key, 'POST', '/v1/phone-numbers', twilio());
    expect(again.statusCode).toBe(409);
    expect(again.json().error.field).toBe('number');
    expect((await call(otherKey, 'POST', '/v1/phone-numbers', twilio())).statusCode).toBe(201);
  });

  it('lists, patches (keeping stored secrets), isolates teams and deletes', async () => {
    const list = await call(key, 'GET', '/v1/phone-numbers');
    expect(list.json().data).toHaveLength(1);
    const id = list.json().data[0].id;
    expect((await call(otherKey, 'GET', `/v1/phone-numbers/${id}`)).statusCode).toBe(404);
    expect((await call(otherKey, 'PATCH', `/v1/phone-numbers/${id}`, { name: 'x' })).statusCode).toBe(404);

    const patched = await call(key, 'PATCH', `/v1/phone-numbers/${id}`, {
      name: 'Night line',
      assistantId: null,
      fallbackDestination: { type: 'sip', sipUri: 'sip:desk@pbx.example.com' },
      server: { url: 'https://hooks.example.com/assistant', headers: { 'x-key': 'hidden' } },
      credentials: { accountSid: 'AC99' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      name: 'Night line',
      assistantId: null,
      fallbackDestination: { type: 'sip', sipUri: 'sip:desk@pbx.example.com' },
      server: {
        url: 'https://hooks.example.com/assistant',
        headers: { 'x-key': '[redacted]' },
        secretSet: false,
      },
      credentials: { accountSid: 'AC99', authToken: '…cdef' },
    });
    const record = await store.number(id);
    expect(record).toMatchObject({ teamId, fallbackDestination: { type: 'sip' } });
    if (!record) throw new Error('gone');
    expect((await store.account(record, 'https://api.twilio.com')).credentials.authToken).toBe(TOKEN);

    const switched = await call(key, 'PATCH', `/v1/phone-numbers/${id}`, { provider: 'plivo' });
    expect(switched.statusCode).toBe(400);
    expect(switched.json().error.field).toBe('credentials.authId');

    expect((await call(key, 'DELETE', `/v1/phone-numbers/${id}`)).statusCode).toBe(204);
    expect((await call(key, 'GET', `/v1/phone-numbers/${id}`)).statusCode).toBe(404);
    expect((await call(key, 'DELETE', `/v1/phone-numbers/${id}`)).statusCode).toBe(404);
  });

  it('needs an API key', async () => {
    expect((await call('nope', 'GET', '/v1/phone-numbers')).statusCode).toBe(401);
  });
});
