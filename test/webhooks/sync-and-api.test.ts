import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../src/contract/assistant-schema.js';
import { callContext } from '../support/call-context.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { useReceivers } from '../support/webhook-receiver.js';

let server: TestServer;
let key: string;
let teamId: string;
const receiver = useReceivers();

beforeAll(async () => {
  server = await startTestServer({}, { retryDelayScale: 0.001, sweepIntervalMs: 100 });
  ({ key, teamId } = await server.createTeam('sync'));
});
afterAll(() => server.close());

const toolCall = (id: string, name = 'lookup', args: Record<string, unknown> = { q: 1 }) => ({
  id,
  type: 'function' as const,
  function: { name, arguments: args },
});

describe('tool-calls (synchronous)', () => {
  it.each([
    [
      'results list',
      { results: [{ tool_call_id: 'c1', result: { name: 'Jan' } }] },
      { ok: true, result: { name: 'Jan' } },
    ],
    [
      'results list, camelCase id',
      { results: [{ toolCallId: 'c1', result: 'ok' }] },
      { ok: true, result: 'ok' },
    ],
    ['simple result', { result: { name: 'Jan' } }, { ok: true, result: { name: 'Jan' } }],
    ['direct value', { name: 'Jan' }, { ok: true, result: { name: 'Jan' } }],
    ['error', { error: 'Contact not found' }, { ok: false, error: 'Contact not found' }],
  ])('accepts the %s reply format', async (_name, reply, expected) => {
    const r = await receiver();
    r.respond = () => ({ status: 200, body: JSON.stringify(reply) });
    const ctx = callContext(teamId, {
      tools: [{ type: 'function', name: 'lookup', server: { url: r.url, secret: 'tool-secret' } }],
    });
    const results = await server.parley.outbox.requestToolCalls(
      ctx,
      [toolCall('c1')],
      AbortSignal.timeout(5000),
    );
    expect(results.get('c1')).toEqual(expected);
    const sent = r.events[0]!;
    expect(sent.message.type).toBe('tool-calls');
    expect(sent.message.toolCallList).toEqual([toolCall('c1')]);
    expect(sent.headers['x-interactly-secret']).toBe('tool-secret');
  });

  it('tells the model about a timeout, an unusable reply and a missing server, and logs every attempt', async () => {
    const slow = await receiver();
    slow.respond = () => ({ status: 200, delayMs: 2000 });
    const junk = await receiver();
    junk.respond = () => ({ status: 200, body: 'not json' });
    const ctx = callContext(teamId, {
      tools: [
        { type: 'function', name: 'slow', server: { url: slow.url, timeoutSeconds: 0.3 } },
        { type: 'function', name: 'junk', server: { url: junk.url } },
        { type: 'function', name: 'nowhere' },
      ],
      assistantServer: { enabled: false },
    });
    const started = Date.now();
    const results = await server.parley.outbox.requestToolCalls(
      ctx,
      [toolCall('a', 'slow'), toolCall('b', 'junk'), toolCall('c', 'nowhere')],
      AbortSignal.timeout(5000),
    );
    expect(Date.now() - started).toBeLessThan(1500);
    expect(results.get('a')).toEqual({
      ok: false,
      error: expect.stringContaining('did not answer within 300 ms'),
    });
    expect(results.get('b')).toEqual({ ok: false, error: expect.stringContaining('unusable reply') });
    expect(results.get('c')).toEqual({ ok: false, error: expect.stringContaining('no server') });
    const log = (
      await server.request(key, {
        method: 'GET',
        url: `/v1/webhook-deliveries?callId=${ctx.call.id}&eventType=tool-calls`,
      })
    ).json();
    expect(log.data).toHaveLength(2);
    expect(log.data.every((d: { mode: string; status: string }) => d.mode === 'sync')).toBe(true);
  });

  it('gives tool-calls their place in the call sequence', async () => {
    const r = await receiver();
    const ctx = callContext(teamId, { assistantServer: { url: r.url } });
    await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    await server.parley.outbox.requestToolCalls(ctx, [toolCall('x')], AbortSignal.timeout(5000));
    await server.parley.outbox.record(ctx, [{ type: 'conversation-update' }]);
    await r.waitFor(() => r.events.length === 3);
    const bySeq = [...r.events]
      .sort((a, b) => a.message.sequence - b.message.sequence)
      .map((e) => e.message.type);
    expect(bySeq).toEqual(['status-update', 'tool-calls', 'conversation-update']);
  });
});

describe('delivery log, replay, test events, schemas, formats', () => {
  it('replays an event with the same id and lists it', async () => {
    const r = await receiver();
    const ctx = callContext(teamId, { assistantServer: { url: r.url } });
    const [event] = await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    await r.waitFor(() => r.events.length === 1);
    const list = async (q: string) =>
      (await server.request(key, { method: 'GET', url: `/v1/webhook-deliveries${q}` })).json().data;
    await expect.poll(async () => (await list(`?callId=${ctx.call.id}`))[0]?.status).toBe('delivered');
    const [d] = await list(`?callId=${ctx.call.id}`);
    const replay = await server.request(key, {
      method: 'POST',
      url: `/v1/webhook-deliveries/${d.id}/replay`,
    });
    expect(replay.statusCode).toBe(202);
    expect(replay.json().replayOf).toBe(d.id);
    await r.waitFor(() => r.events.length === 2);
    expect(r.events[1]!.message.id).toBe(event!.id);
    expect(r.events[1]!.rawBody).toBe(r.events[0]!.rawBody);
    expect((await list(`?callId=${ctx.call.id}&status=delivered`)).length).toBeGreaterThanOrEqual(1);
    expect(await list(`?callId=${ctx.call.id}&eventType=hang`)).toEqual([]);
    const other = await server.createKey('other-team');
    const hidden = await server.request(other, { method: 'GET', url: `/v1/webhook-deliveries/${d.id}` });
    expect(hidden.statusCode).toBe(404);
    const hiddenReplay = await server.request(other, {
      method: 'POST',
      url: `/v1/webhook-deliveries/${d.id}/replay`,
    });
    expect(hiddenReplay.statusCode).toBe(404);
  });

  it.each(EVENT_TYPES)('sends a realistic, schema-valid test %s event', async (type) => {
    const r = await receiver();
    const assistant = (
      await server.request(key, {
        method: 'POST',
        url: '/v1/assistants',
        payload: { name: 'tester', assistantServer: { url: r.url, secret: 'x-secret-value' } },
      })
    ).json();
    const res = await server.request(key, {
      method: 'POST',
      url: `/v1/assistants/${assistant._id}/test-webhook`,
      payload: { type },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, statusCode: 200 });
    expect(r.events).toHaveLength(1);
    expect(r.events[0]!.message.type).toBe(type);
    // The contract's form, so receivers that validate ids accept it; marked as a test in metadata.
    expect(r.events[0]!.message.call.id).toMatch(
      /^WC-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(r.events[0]!.message.call.metadata).toEqual({ test: true });
    expect(res.body).not.toContain('x-secret-value');
  });

  it('serves a JSON Schema per event type and lists them in the OpenAPI document', async () => {
    for (const type of EVENT_TYPES) {
      const res = await server.parley.app.inject({ method: 'GET', url: `/v1/schemas/events/${type}` });
      expect(res.statusCode).toBe(200);
      expect(res.json().properties.message.properties.type.const).toBe(type);
    }
    const unknown = await server.parley.app.inject({ method: 'GET', url: '/v1/schemas/events/nope' });
    expect(unknown.statusCode).toBe(400);
    const openapi = (await server.parley.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(openapi.components.schemas)).toContain('WebhookEvent-end-of-call-report');
  });

  it('sends the hms format with snake_case fields, ISO timestamps and its statuses', async () => {
    const r = await receiver();
    const ctx = callContext(teamId, { assistantServer: { url: r.url, format: 'hms' } });
    Object.assign(ctx.call, { status: 'ongoing', phoneCallStatus: 'in-progress' });
    await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    Object.assign(ctx.call, {
      status: 'finished',
      phoneCallStatus: 'completed',
      endAt: new Date().toISOString(),
    });
    await server.parley.outbox.record(ctx, [
      {
        type: 'end-of-call-report',
        report: {
          analysis: {},
          durationSeconds: 3,
          summary: 's',
          endedReason: 'customer-ended-call',
          recordingUrl: 'https://r/x.wav',
        },
      },
    ]);
    await r.waitFor(() => r.events.length === 2);
    const [status, report] = r.events.map((e) => e.message);
    expect(status.call.status).toBe('in-progress');
    expect(status.call.phone_call_status).toBe('in-progress');
    expect(typeof status.timestamp).toBe('string');
    expect(report.call.status).toBe('ended');
    expect(report.duration_seconds).toBe(3);
    expect(report.recording_url).toBe('https://r/x.wav');
    expect(report.end_reason).toBe('customer-ended-call');
  });
});
