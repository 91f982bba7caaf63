import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssistantCreate } from '../../src/contract/assistant-schema.js';
import type { CallContext } from '../../src/webhooks/events/build-event.js';
import { callContext, lifecycle } from '../support/call-context.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { useReceivers, WebhookReceiver } from '../support/webhook-receiver.js';

let server: TestServer;
let key: string;
let teamId: string;
const receiver = useReceivers();

beforeAll(async () => {
  server = await startTestServer(
    {},
    { retryDelayScale: 0.001, orderingHoldMs: 1500, sweepIntervalMs: 100, leaseMs: 3000 },
  );
  ({ key, teamId } = await server.createTeam('hooks'));
});
afterAll(() => server.close());

function ctxFor(url: string, extra: Partial<AssistantCreate> = {}): CallContext {
  return callContext(teamId, {
    assistantServer: { url, secret: 'whsec_dGVzdC1zZWNyZXQtMTIzNDU2Nzg5MA==', ...extra.assistantServer },
    ...extra,
  });
}

/** Records the whole lifecycle of one call, each step its own transaction as in a real call. */
async function runLifecycle(ctx: CallContext): Promise<string[]> {
  const ids: string[] = [];
  for (const step of lifecycle(ctx)) {
    const events = await server.parley.outbox.record(ctx, step());
    ids.push(...events.map((e) => e.id));
  }
  return ids;
}

const deliveries = async (callId: string) =>
  (
    await server.request(key, { method: 'GET', url: `/v1/webhook-deliveries?callId=${callId}&limit=100` })
  ).json().data as {
    id: string;
    status: string;
    attemptCount: number;
    lastError: string | null;
    eventType: string;
  }[];

describe('notification delivery', () => {
  it('delivers a call lifecycle in order, signed, valid against the schemas', async () => {
    const r = await receiver();
    const ctx = ctxFor(r.url);
    const ids = await runLifecycle(ctx);
    await r.waitFor(() => r.events.length >= 5, 10_000, '5 events');
    const got = r.events.map((e) => e.message);
    expect(got.map((m) => m.type)).toEqual([
      'status-update',
      'status-update',
      'conversation-update',
      'status-update',
      'end-of-call-report',
    ]);
    expect(got.map((m) => m.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(got.map((m) => m.id)).toEqual(ids);
    expect(got.map((m) => m.call.status)).toEqual(['queued', 'ongoing', 'ongoing', 'finished', 'finished']);
    const first = r.events[0]!;
    expect(first.headers['webhook-id']).toBe(ids[0]);
    expect(first.headers['x-webhook-event']).toBe('status-update');
    expect(first.headers['x-interactly-secret']).toBe('whsec_dGVzdC1zZWNyZXQtMTIzNDU2Nzg5MA==');
    expect(got[0].assistant.assistantServer.secret).toBeUndefined();
  });

  it('signatures verify with standardwebhooks and an independent HMAC; a tampered body fails both', async () => {
    const r = await receiver();
    const secret = 'plain-text-secret-ü';
    const ctx = callContext(teamId, { assistantServer: { url: r.url, secret } });
    await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    await r.waitFor(() => r.events.length === 1);
    const e = r.events[0]!;
    const h = e.headers as Record<string, string>;
    const wh = new Webhook(Buffer.from(secret, 'utf8').toString('base64'));
    expect(() => wh.verify(e.rawBody, h)).not.toThrow();
    const expected = `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${h['x-webhook-timestamp']}.${e.rawBody}`).digest('hex')}`;
    expect(h['x-webhook-signature']).toBe(expected);

    const tampered = e.rawBody.replace('status-update', 'status-updatf');
    expect(() => wh.verify(tampered, h)).toThrow();
    const tamperedMac = `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${h['x-webhook-timestamp']}.${tampered}`).digest('hex')}`;
    expect(tamperedMac).not.toBe(h['x-webhook-signature']);
  });

  it('loses nothing while the receiver is down, then delivers with the same ids', async () => {
    const probe = await new WebhookReceiver().start();
    const port = probe.port;
    await probe.stop(); // the port is now closed: connection refused
    const ctx = ctxFor(`http://127.0.0.1:${port}/hook`);
    const ids = await runLifecycle(ctx);
    const failing = await deliveries(ctx.call.id);
    expect(failing).toHaveLength(5);
    // Down for longer than the ordering hold (1.5 s here): the first event has failed 7 times.
    await expect
      .poll(async () => (await deliveries(ctx.call.id)).some((d) => d.attemptCount >= 7), {
        timeout: 15_000,
        interval: 200,
      })
      .toBe(true);
    const r = await receiver(port);
    await r.waitFor(() => r.accepted().length === 5, 15_000, 'all 5 after recovery');
    expect(r.accepted().map((e) => e.message.id)).toEqual(ids);
    await expect
      .poll(async () => (await deliveries(ctx.call.id)).every((d) => d.status === 'delivered'), {
        timeout: 5000,
      })
      .toBe(true);
  });

  it('survives a storm of 500s: everything arrives, duplicates share ids, per-call order holds', async () => {
    const r = await receiver();
    // Every other request of the first twenty fails: each event meets at least one 500.
    r.respond = (_e, i) => (i < 20 && i % 2 === 0 ? { status: 500, body: 'boom' } : undefined);
    const ctx = ctxFor(r.url);
    const ids = await runLifecycle(ctx);
    await r.waitFor(() => r.accepted().length === 5, 15_000, 'all accepted');
    const accepted = r.accepted();
    expect(accepted.map((e) => e.message.id)).toEqual(ids);
    expect(accepted.map((e) => e.message.sequence)).toEqual([1, 2, 3, 4, 5]);
    const byId = new Map<string, number>();
    for (const e of r.events) byId.set(e.message.id, (byId.get(e.message.id) ?? 0) + 1);
    expect([...byId.keys()].sort()).toEqual([...ids].sort()); // retries reuse the same id
    expect(r.events.length).toBeGreaterThan(5);
  });

  it('honours Retry-After on 429', async () => {
    const r = await receiver();
    r.respond = (_e, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : undefined);
    const ctx = ctxFor(r.url);
    await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    await r.waitFor(() => r.events.length === 2, 10_000);
    expect(r.events[1]!.at - r.events[0]!.at).toBeGreaterThanOrEqual(950);
    expect(r.events[1]!.message.id).toBe(r.events[0]!.message.id);
  });

  it('times out a slow reply, logs it, and retries', async () => {
    const r = await receiver();
    r.respond = (_e, i) => (i === 0 ? { status: 200, delayMs: 1500 } : undefined);
    const ctx = ctxFor(r.url, { assistantServer: { url: r.url, timeoutSeconds: 0.3 } });
    await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    await r.waitFor(() => r.events.length === 2, 10_000);
    await expect
      .poll(async () => (await deliveries(ctx.call.id))[0]?.status, { timeout: 5000 })
      .toBe('delivered');
    const [d] = await deliveries(ctx.call.id);
    const detail = (
      await server.request(key, { method: 'GET', url: `/v1/webhook-deliveries/${d!.id}` })
    ).json();
    expect(detail.attempts).toHaveLength(2);
    expect(detail.attempts[0].error).toMatch(/^timeout/);
    expect(detail.attempts[0].latencyMs).toBeGreaterThanOrEqual(250);
    expect(detail.attempts[1].statusCode).toBe(200);
  });

  it('stops on 410 and disables the endpoint until it is re-enabled', async () => {
    const r = await receiver();
    r.respond = (_e, i) => (i === 0 ? { status: 410 } : undefined);
    const ctx = ctxFor(r.url);
    await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    await expect
      .poll(async () => (await deliveries(ctx.call.id))[0]?.status, { timeout: 5000 })
      .toBe('failed');
    await server.parley.outbox.record(ctx, [{ type: 'conversation-update' }]);
    await expect
      .poll(
        async () =>
          (await deliveries(ctx.call.id)).find((d) => d.eventType === 'conversation-update')?.lastError,
        { timeout: 5000 },
      )
      .toMatch(/disabled/);
    expect(r.events).toHaveLength(1);
    const endpoints = (await server.request(key, { method: 'GET', url: '/v1/webhook-endpoints' })).json()
      .data;
    expect(endpoints.map((e: { url: string }) => e.url)).toContain(r.url);

    const enabled = await server.request(key, {
      method: 'POST',
      url: '/v1/webhook-endpoints/enable',
      payload: { url: r.url },
    });
    expect(enabled.statusCode).toBe(200);
    // The delivery held while the endpoint was disabled is sent now; a replay sends it once more.
    expect(enabled.json().resumed).toBe(1);
    const held = (await deliveries(ctx.call.id)).find((d) => d.eventType === 'conversation-update')!;
    const replay = await server.request(key, {
      method: 'POST',
      url: `/v1/webhook-deliveries/${held.id}/replay`,
    });
    expect(replay.statusCode).toBe(202);
    await r.waitFor(() => r.events.length === 3);
    expect(r.events.slice(1).map((e) => e.message.type)).toEqual([
      'conversation-update',
      'conversation-update',
    ]);
  });

  it('does not follow a 301, and does not retry other 4xx', async () => {
    const elsewhere = await receiver();
    const r = await receiver();
    r.respond = (e) =>
      e.message.type === 'status-update'
        ? { status: 301, headers: { location: elsewhere.url } }
        : { status: 400 };
    const ctx = ctxFor(r.url);
    await server.parley.outbox.record(ctx, [{ type: 'status-update' }, { type: 'conversation-update' }]);
    await expect
      .poll(async () => (await deliveries(ctx.call.id)).every((d) => d.status === 'failed'), {
        timeout: 5000,
      })
      .toBe(true);
    const ds = await deliveries(ctx.call.id);
    expect(ds.map((d) => d.attemptCount)).toEqual([1, 1]);
    expect(ds.find((d) => d.eventType === 'status-update')?.lastError).toMatch(/redirect/);
    expect(elsewhere.events).toHaveLength(0);
    expect(r.events).toHaveLength(2);
  });

  it('reads at most the cap of an oversized response and keeps 4 KB of it in the log', async () => {
    const r = await receiver();
    r.respond = () => ({ status: 200, body: 'x'.repeat(5_000_000) });
    const ctx = ctxFor(r.url);
    await server.parley.outbox.record(ctx, [{ type: 'status-update' }]);
    await expect
      .poll(async () => (await deliveries(ctx.call.id))[0]?.status, { timeout: 5000 })
      .toBe('delivered');
    const [d] = await deliveries(ctx.call.id);
    const detail = (
      await server.request(key, { method: 'GET', url: `/v1/webhook-deliveries/${d!.id}` })
    ).json();
    expect(detail.attempts[0].responseSnippet.length).toBe(4096);
  });

  it('keeps per-call order behind a failing event, but only for the hold time', async () => {
    const r = await receiver();
    // The first event fails twice, then succeeds: later events must wait for it.
    let firstFailures = 0;
    r.respond = (e) => (e.message.sequence === 1 && firstFailures++ < 2 ? { status: 503 } : undefined);
    const ctx = ctxFor(r.url);
    await runLifecycle(ctx);
    await r.waitFor(() => r.accepted().length === 5, 10_000);
    expect(r.accepted().map((e) => e.message.sequence)).toEqual([1, 2, 3, 4, 5]);

    // An event that never succeeds stops blocking the call's later events after the hold.
    const r2 = await receiver();
    r2.respond = (e) => (e.message.sequence === 1 ? { status: 500 } : undefined);
    const ctx2 = ctxFor(r2.url);
    const started = Date.now();
    await runLifecycle(ctx2);
    await r2.waitFor(() => r2.accepted().length === 4, 10_000, 'later events past the hold');
    expect(r2.accepted().map((e) => e.message.sequence)).toEqual([2, 3, 4, 5]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });

  it('routes only the event types in assistantServer.messages, and nothing when disabled', async () => {
    const r = await receiver();
    const only = ctxFor(r.url, { assistantServer: { url: r.url, messages: ['end-of-call-report'] } });
    await runLifecycle(only);
    const off = ctxFor(r.url, { assistantServer: { url: r.url, enabled: false } });
    await runLifecycle(off);
    await r.waitFor(() => r.events.length >= 1);
    // Deliveries are created with the events, so the log is complete already.
    expect((await deliveries(only.call.id)).map((d) => d.eventType)).toEqual(['end-of-call-report']);
    expect(await deliveries(off.call.id)).toEqual([]);
    expect(r.events.map((e) => e.message.type)).toEqual(['end-of-call-report']);
  });

  it('refuses a hostname that resolves to loopback unless private targets are allowed', async () => {
    const strict = await startTestServer({ PARLEY_ALLOW_PRIVATE_WEBHOOKS: '0' });
    try {
      const r = await receiver();
      const k = await strict.createKey('strict');
      const team = (
        await strict.database.db
          .selectFrom('teams')
          .select('id')
          .where('name', '=', 'strict')
          .executeTakeFirstOrThrow()
      ).id;
      const ctx = callContext(team, { assistantServer: { url: `http://localhost:${r.port}/hook` } });
      await strict.parley.outbox.record(ctx, [{ type: 'status-update' }]);
      await strict.parley.dispatcher.drain();
      const list = (
        await strict.request(k, { method: 'GET', url: `/v1/webhook-deliveries?callId=${ctx.call.id}` })
      ).json().data;
      expect(list[0].status).toBe('failed');
      expect(list[0].lastError).toMatch(/ssrf_refused/);
      expect(r.events).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });
});
