import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeGuardedAgents, createGuardedAgent, getGuardedAgent } from '../../src/shared/network-guard.js';
import {
  classifyOutcome,
  parseRetryAfter,
  type SendResult,
  sendWebhook,
  THROTTLE_FLOOR_MS,
} from '../../src/webhooks/http/send.js';
import { startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await closeGuardedAgents();
});

const base = {
  headers: { 'content-type': 'application/json' },
  body: '{"message":{"type":"status-update"}}',
  timeoutMs: 5_000,
  maxResponseBytes: 64 * 1024,
};

describe('sendWebhook against real loopback servers', () => {
  it('delivers with allowPrivate and returns status, body and headers', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end('{"ok":true}');
    });
    const r = await sendWebhook({ ...base, url: `${s.origin}/hook`, allowPrivate: true });
    expect(r).toMatchObject({
      ok: true,
      statusCode: 200,
      responseBodySnippet: '{"ok":true}',
      responseBody: '{"ok":true}',
      responseHeaders: { 'retry-after': '7', 'content-type': 'application/json' },
    });
    expect(r.error).toBeUndefined();
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ method: 'POST', url: '/hook', body: base.body });
    expect(classifyOutcome(r, Date.now())).toEqual({ kind: 'success' });
  });

  it('refuses literal loopback without allowPrivate and never connects', async () => {
    const s = await server((_req, res) => res.end('should not be reached'));
    const r = await sendWebhook({ ...base, url: `${s.origin}/hook`, allowPrivate: false });
    expect(r).toMatchObject({ ok: false, error: { code: 'ssrf_refused' } });
    expect(r.statusCode).toBeUndefined();
    expect(s.requests).toHaveLength(0);
    expect(classifyOutcome(r, Date.now())).toEqual({ kind: 'fail' });
  });

  it('refuses a host name that resolves to 127.0.0.1 (localhost) at connect time', async () => {
    const s = await server((_req, res) => res.end('should not be reached'));
    const r = await sendWebhook({ ...base, url: `http://localhost:${s.port}/hook`, allowPrivate: false });
    expect(r).toMatchObject({ ok: false, error: { code: 'ssrf_refused' } });
    expect(r.error?.message).toMatch(/loopback/);
    expect(s.requests).toHaveLength(0);
  });

  it('lets localhost through with allowPrivate', async () => {
    const s = await server((_req, res) => res.end('hi'));
    const r = await sendWebhook({ ...base, url: `http://localhost:${s.port}/hook`, allowPrivate: true });
    expect(r).toMatchObject({ ok: true, statusCode: 200, responseBodySnippet: 'hi' });
  });

  it.each([
    'http://2130706433:PORT/',
    'http://0x7f.1:PORT/',
    'http://[::ffff:127.0.0.1]:PORT/',
    'http://0:PORT/',
  ])('refuses the odd spelling %s', async (tmpl) => {
    const s = await server((_req, res) => res.end('should not be reached'));
    const r = await sendWebhook({ ...base, url: tmpl.replace('PORT', String(s.port)), allowPrivate: false });
    expect(r.error?.code).toBe('ssrf_refused');
    expect(s.requests).toHaveLength(0);
  });

  it('refuses metadata even with allowPrivate, and bad schemes as invalid_url', async () => {
    const meta = await sendWebhook({ ...base, url: 'http://169.254.169.254/latest', allowPrivate: true });
    expect(meta.error?.code).toBe('ssrf_refused');
    const ftp = await sendWebhook({ ...base, url: 'ftp://example.com/', allowPrivate: true });
    expect(ftp.error?.code).toBe('invalid_url');
    expect(classifyOutcome(ftp, Date.now())).toEqual({ kind: 'fail' });
    const garbage = await sendWebhook({ ...base, url: '::nope::', allowPrivate: true });
    expect(garbage.error?.code).toBe('invalid_url');
  });

  it('does not follow a 301', async () => {
    const target = await server((_req, res) => res.end('redirect target'));
    const s = await server((_req, res) => {
      res.writeHead(301, { location: `${target.origin}/elsewhere` });
      res.end('moved');
    });
    const r = await sendWebhook({ ...base, url: `${s.origin}/hook`, allowPrivate: true });
    expect(r).toMatchObject({
      ok: false,
      statusCode: 301,
      error: { code: 'redirect' },
      responseHeaders: { location: `${target.origin}/elsewhere` },
    });
    expect(target.requests).toHaveLength(0);
    expect(s.requests).toHaveLength(1);
    expect(classifyOutcome(r, Date.now())).toEqual({ kind: 'fail' });
  });

  it('times out a server that never answers', async () => {
    const s = await server(() => {
      /* hold the response open */
    });
    const arrived = s.nextRequest();
    const r = await sendWebhook({ ...base, url: `${s.origin}/slow`, allowPrivate: true, timeoutMs: 300 });
    await arrived;
    expect(r).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(r.statusCode).toBeUndefined();
    expect(r.latencyMs).toBeGreaterThanOrEqual(250);
    expect(r.latencyMs).toBeLessThan(3_000);
    expect(classifyOutcome(r, Date.now())).toEqual({ kind: 'retry', retryAfterMs: THROTTLE_FLOOR_MS });
  });

  it('the deadline covers the body: headers then a stalled body time out', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial ');
    });
    const r = await sendWebhook({ ...base, url: `${s.origin}/stall`, allowPrivate: true, timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, statusCode: 200, error: { code: 'timeout' } });
    expect(r.responseBodySnippet).toBe('partial ');
    // The receiver answered 2xx: the event is delivered even though the body never finished.
    expect(classifyOutcome(r, Date.now())).toEqual({ kind: 'success' });
  });

  it('the deadline covers DNS resolution', async () => {
    let lookups = 0;
    const agent = createGuardedAgent({
      allowPrivate: false,
      resolveAll: () => {
        lookups++;
        return new Promise(() => {
          /* never resolves */
        });
      },
    });
    try {
      const r = await sendWebhook({
        ...base,
        url: 'http://hangs.example.test/',
        allowPrivate: false,
        timeoutMs: 200,
        dispatcher: agent,
      });
      expect(r.error?.code).toBe('timeout');
      expect(r.latencyMs).toBeLessThan(2_000);
      expect(lookups).toBe(1);
    } finally {
      await agent.destroy();
    }
  });

  it('caps an oversized response and aborts the rest', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    let closed: Promise<unknown> | undefined;
    const s = await server((_req, res) => {
      closed = once(res, 'close');
      res.writeHead(200, { 'content-type': 'text/plain' });
      // 64 MB if nobody stops reading; writes until the client goes away.
      let sent = 0;
      const pump = () => {
        while (sent < 4096 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
    const r = await sendWebhook({
      ...base,
      url: `${s.origin}/big`,
      allowPrivate: true,
      maxResponseBytes: 10_000,
    });
    expect(r).toMatchObject({ ok: false, statusCode: 200, error: { code: 'too_large' } });
    expect(r.responseBodySnippet).toHaveLength(4096);
    expect(r.responseBody).toBeUndefined();
    await closed; // the server sees the connection go away
    expect(classifyOutcome(r, Date.now())).toEqual({ kind: 'success' });
  });

  it('a body exactly at the cap is complete; snippets stay 4 KB and UTF-8 safe', async () => {
    // 'é' is 2 bytes: 4095 ASCII bytes then 'é' straddles the 4096-byte snippet boundary.
    const body = 'a'.repeat(4095) + 'é'.repeat(100);
    const bytes = Buffer.byteLength(body);
    const s = await server((_req, res) => res.end(body));
    const r = await sendWebhook({ ...base, url: s.origin, allowPrivate: true, maxResponseBytes: bytes });
    expect(r.ok).toBe(true);
    expect(r.responseBody).toBe(body);
    expect(r.responseBodySnippet).toBe('a'.repeat(4095));
  });

  it('reports connection refused as a retryable network error', async () => {
    const s = await server((_req, res) => res.end());
    const url = `${s.origin}/`;
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    const r = await sendWebhook({ ...base, url, allowPrivate: true });
    expect(r).toMatchObject({ ok: false, error: { code: 'network' } });
    expect(r.error?.message).toMatch(/ECONNREFUSED/);
    expect(classifyOutcome(r, Date.now())).toEqual({ kind: 'retry' });
  });

  it('a caller abort ends the attempt without throwing', async () => {
    const s = await server(() => {
      /* hold */
    });
    const ac = new AbortController();
    const arrived = s.nextRequest();
    const pending = sendWebhook({ ...base, url: s.origin, allowPrivate: true, signal: ac.signal });
    await arrived;
    ac.abort();
    const r = await pending;
    expect(r).toMatchObject({ ok: false, error: { code: 'network' } });
    expect(r.error?.message).toMatch(/aborted by caller/);
  });

  it('passes status codes through for classification', async () => {
    const s = await server((req, res) => {
      const status = Number(req.url.slice(1));
      if (status === 429) res.setHeader('retry-after', '120');
      res.statusCode = status;
      res.end();
    });
    const outcome = async (status: number) => {
      const r = await sendWebhook({ ...base, url: `${s.origin}/${status}`, allowPrivate: true });
      return classifyOutcome(r, Date.now());
    };
    expect(await outcome(204)).toEqual({ kind: 'success' });
    expect(await outcome(400)).toEqual({ kind: 'fail' });
    expect(await outcome(404)).toEqual({ kind: 'fail' });
    expect(await outcome(408)).toEqual({ kind: 'retry' });
    expect(await outcome(410)).toEqual({ kind: 'disable' });
    expect(await outcome(429)).toEqual({ kind: 'retry', retryAfterMs: 120_000 });
    expect(await outcome(500)).toEqual({ kind: 'retry' });
    expect(await outcome(503)).toEqual({ kind: 'retry' });
    expect(await outcome(304)).toEqual({ kind: 'fail' });
  });

  it('connects only to the vetted address of a host name, keeping the Host header', async () => {
    const s = await server((_req, res) => res.end('pinned'));
    const agent = createGuardedAgent({
      allowPrivate: true,
      resolveAll: async () => [
        { address: '169.254.169.254', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    try {
      const r = await sendWebhook({
        ...base,
        url: `http://rebind.example.test:${s.port}/x`,
        allowPrivate: true,
        dispatcher: agent,
      });
      expect(r).toMatchObject({ ok: true, responseBody: 'pinned' });
      expect(s.requests[0]?.headers.host).toBe(`rebind.example.test:${s.port}`);
    } finally {
      await agent.destroy();
    }
  });

  it('keeps the original host name as TLS SNI while connecting to the vetted IP', async () => {
    const seen: string[] = [];
    // No certificate needed: the SNI callback records the name and then fails the handshake.
    const tlsServer = tls.createServer({
      SNICallback: (servername, cb) => {
        seen.push(servername);
        cb(new Error('test server has no certificate'));
      },
    });
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    const port = (tlsServer.address() as AddressInfo).port;
    const agent = createGuardedAgent({
      allowPrivate: true,
      resolveAll: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    try {
      const r = await sendWebhook({
        ...base,
        url: `https://hooks.customer.test:${port}/`,
        allowPrivate: true,
        dispatcher: agent,
      });
      expect(r.error?.code).toBe('network');
      expect(seen).toEqual(['hooks.customer.test']);
    } finally {
      await agent.destroy();
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    }
  });

  it('caches one agent per policy', () => {
    expect(getGuardedAgent(false)).toBe(getGuardedAgent(false));
    expect(getGuardedAgent(true)).toBe(getGuardedAgent(true));
    expect(getGuardedAgent(true)).not.toBe(getGuardedAgent(false));
  });

  it('never throws, even for a header undici rejects', async () => {
    const s = await server((_req, res) => res.end());
    const r = await sendWebhook({
      ...base,
      headers: { connection: 'upgrade', upgrade: 'websocket' },
      url: s.origin,
      allowPrivate: true,
    });
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('invalid_request');
    expect(classifyOutcome(r, Date.now())).toEqual({ kind: 'fail' });
  });
});

describe('Retry-After and classifyOutcome', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const result = (statusCode: number | undefined, retryAfter?: string, code?: string): SendResult => ({
    ok: false,
    ...(statusCode === undefined ? {} : { statusCode }),
    latencyMs: 1,
    responseBodySnippet: '',
    responseHeaders: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
    ...(code ? { error: { code: code as 'network', message: code } } : {}),
  });

  it('parses delta-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Wednesday, 01-Jan-25 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
  });

  it('classifies', () => {
    expect(classifyOutcome(result(200), now)).toEqual({ kind: 'success' });
    expect(classifyOutcome(result(299), now)).toEqual({ kind: 'success' });
    expect(classifyOutcome(result(503, '30'), now)).toEqual({ kind: 'retry', retryAfterMs: 30_000 });
    expect(classifyOutcome(result(429, 'Wed, 01 Jan 2025 00:02:00 GMT'), now)).toEqual({
      kind: 'retry',
      retryAfterMs: 120_000,
    });
    expect(classifyOutcome(result(429), now)).toEqual({ kind: 'retry', retryAfterMs: THROTTLE_FLOOR_MS });
    expect(classifyOutcome(result(429, 'garbage'), now)).toEqual({
      kind: 'retry',
      retryAfterMs: THROTTLE_FLOOR_MS,
    });
    expect(classifyOutcome(result(408), now)).toEqual({ kind: 'retry' });
    expect(classifyOutcome(result(599), now)).toEqual({ kind: 'retry' });
    expect(classifyOutcome(result(410), now)).toEqual({ kind: 'disable' });
    expect(classifyOutcome(result(401), now)).toEqual({ kind: 'fail' });
    expect(classifyOutcome(result(413), now)).toEqual({ kind: 'fail' });
    expect(classifyOutcome(result(302, undefined, 'redirect'), now)).toEqual({ kind: 'fail' });
    expect(classifyOutcome(result(undefined, undefined, 'network'), now)).toEqual({ kind: 'retry' });
    expect(classifyOutcome(result(undefined, undefined, 'timeout'), now)).toEqual({
      kind: 'retry',
      retryAfterMs: THROTTLE_FLOOR_MS,
    });
    expect(classifyOutcome(result(undefined, undefined, 'ssrf_refused'), now)).toEqual({ kind: 'fail' });
    expect(classifyOutcome(result(undefined, undefined, 'invalid_url'), now)).toEqual({ kind: 'fail' });
    expect(classifyOutcome(result(500, undefined, 'too_large'), now)).toEqual({ kind: 'retry' });
    expect(classifyOutcome(result(200, undefined, 'too_large'), now)).toEqual({ kind: 'success' });
  });
});
