import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/** Issue 11 item 5: secrets given in `assistantOverrides` are write-only, like stored assistants'. */
let server: TestServer;
let receiver: WebhookReceiver;
let key: string;

beforeAll(async () => {
  server = await startTestServer();
  receiver = await new WebhookReceiver().start();
  key = await server.createKey('override-secrets');
});
afterAll(async () => {
  await receiver.stop();
  await server.close();
});

const SECRETS = [
  'srv-secret-0123456789',
  'hdr-value-0123456789',
  'tool-secret-0123456789',
  'tool-hdr-0123456789',
];

describe('secrets in assistantOverrides', () => {
  it('never appear in the reply, the stored call, its events, the delivery log or delivered bodies', async () => {
    const created = await server.request(key, {
      method: 'POST',
      url: '/v1/calls',
      payload: {
        assistant: { name: 'overridden' },
        assistantOverrides: {
          assistantServer: {
            url: receiver.url,
            secret: SECRETS[0],
            headers: { 'x-api-key': SECRETS[1] },
          },
          tools: [
            {
              type: 'function',
              name: 'lookup',
              server: { url: receiver.url, secret: SECRETS[2], headers: { authorization: SECRETS[3] } },
            },
          ],
          variableValues: { name: 'Ada' },
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const call = created.json();
    expect(call.assistantOverrides).toEqual({
      assistantServer: { url: receiver.url, headers: { 'x-api-key': '[redacted]' } },
      tools: [
        {
          type: 'function',
          name: 'lookup',
          server: { url: receiver.url, headers: { authorization: '[redacted]' } },
        },
      ],
      variableValues: { name: 'Ada' },
    });
    const ended = await server.request(key, { method: 'POST', url: `/v1/calls/${call.id}/end` });
    expect(ended.statusCode, ended.body).toBe(200);
    await receiver.waitFor(() => receiver.events.some((e) => e.message?.type === 'end-of-call-report'));
    // The override secret still signs what is sent (it is used, only never shown).
    expect(receiver.events[0]?.headers['x-interactly-secret']).toBe(SECRETS[0]);
    expect(receiver.events[0]?.headers['x-api-key']).toBe(SECRETS[1]);

    const got = await server.request(key, { method: 'GET', url: `/v1/calls/${call.id}` });
    const events = await server.request(key, { method: 'GET', url: `/v1/calls/${call.id}/events` });
    const deliveries = await server.request(key, {
      method: 'GET',
      url: `/v1/webhook-deliveries?callId=${call.id}`,
    });
    expect(deliveries.statusCode, deliveries.body).toBe(200);
    const details = await Promise.all(
      (deliveries.json().data as { id: string }[]).map(
        async (d) =>
          (await server.request(key, { method: 'GET', url: `/v1/webhook-deliveries/${d.id}` })).body,
      ),
    );
    expect(details.length).toBeGreaterThan(0);
    const stored = await server.database.db
      .selectFrom('call_events')
      .select('payload')
      .where('call_id', '=', call.id)
      .execute();
    const everywhere = {
      created: created.body,
      got: got.body,
      events: events.body,
      deliveries: deliveries.body,
      details: details.join('\n'),
      stored: JSON.stringify(stored),
      bodies: receiver.events.map((e) => e.rawBody).join('\n'),
      logs: server.logs.join(''),
    };
    for (const [where, text] of Object.entries(everywhere)) {
      for (const secret of SECRETS) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
    }
    expect(receiver.schemaErrors).toEqual([]);
  });
});
