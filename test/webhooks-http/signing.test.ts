import { createHmac } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { closeGuardedAgents } from '../../src/shared/network-guard.js';
import {
  buildSignedHeaders,
  hmacSignature,
  RESERVED_HEADERS,
  sanitizeCustomHeaders,
  standardWebhooksSigner,
  verifyHmacSignature,
  WebhookSecretError,
  webhookSecretProblem,
} from '../../src/shared/webhook-signing.js';
import { sendWebhook } from '../../src/webhooks/http/send.js';
import { startServer } from './helpers.js';

afterAll(async () => {
  await closeGuardedAgents();
});

const body = JSON.stringify({ message: { type: 'status-update', id: 'evt_123', text: 'héllo ☎' } });
const whsec = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const plain = 'my-söper-secret';

function sign(secret: string | undefined, timestampMs = Date.now(), extra: Record<string, unknown> = {}) {
  return buildSignedHeaders({
    eventId: 'evt_123',
    eventType: 'status-update',
    timestampMs,
    body,
    ...(secret === undefined ? {} : { secret }),
    headers: extra,
  });
}

/** Standard Webhooks signature computed without the package: base64 HMAC over "id.ts.body". */
function independentStandardSig(key: Buffer, id: string, ts: string, payload: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${ts}.${payload}`).digest('base64')}`;
}

describe('buildSignedHeaders', () => {
  it('sets every contract header with a secret', () => {
    const ms = 1_735_689_600_123;
    const h = sign(plain, ms);
    expect(h['content-type']).toBe('application/json');
    expect(h['x-interactly-secret']).toBe(plain);
    expect(h['webhook-id']).toBe('evt_123');
    expect(h['webhook-timestamp']).toBe('1735689600');
    expect(h['x-webhook-event']).toBe('status-update');
    expect(h['x-webhook-timestamp']).toBe('1735689600');
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(h['x-webhook-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('without a secret sends ids and timestamps but no signature or secret header', () => {
    const h = sign(undefined, 1_735_689_600_000);
    expect(h).toEqual({
      'content-type': 'application/json',
      'webhook-id': 'evt_123',
      'webhook-timestamp': '1735689600',
      'x-webhook-event': 'status-update',
      'x-webhook-timestamp': '1735689600',
    });
    expect(sign('', 1_735_689_600_000)['webhook-signature']).toBeUndefined();
  });

  it('custom headers are added but cannot override the platform headers', () => {
    const h = sign(plain, Date.now(), {
      Authorization: 'Bearer abc',
      'X-Tenant': 42,
      'Webhook-Signature': 'v1,forged',
      'X-WEBHOOK-SIGNATURE': 'sha256=forged',
      'x-interactly-secret': 'forged',
      'Content-Type': 'text/plain',
      'webhook-id': 'evt_forged',
      'x-webhook-event': 'forged',
      Host: 'evil.test',
      'Transfer-Encoding': 'chunked',
      'bad name': 'x',
      'x-injected': 'a\r\nx-evil: 1',
    });
    expect(h.authorization).toBe('Bearer abc');
    expect(h['x-tenant']).toBe('42');
    expect(h['webhook-signature']).not.toBe('v1,forged');
    expect(h['x-webhook-signature']).not.toBe('sha256=forged');
    expect(h['x-interactly-secret']).toBe(plain);
    expect(h['content-type']).toBe('application/json');
    expect(h['webhook-id']).toBe('evt_123');
    expect(h['x-webhook-event']).toBe('status-update');
    expect(h.host).toBeUndefined();
    expect(h['transfer-encoding']).toBeUndefined();
    expect(h['x-injected']).toBeUndefined();
    expect(Object.keys(h).every((k) => k === k.toLowerCase())).toBe(true);
  });

  it('reports what it drops', () => {
    const r = sanitizeCustomHeaders({ 'Webhook-Id': 'x', Connection: 'close', 'a b': 'c', ok: 'v', n: null });
    expect(r.headers).toEqual({ ok: 'v' });
    expect(r.dropped).toEqual([
      { name: 'Webhook-Id', reason: 'reserved' },
      { name: 'Connection', reason: 'transport' },
      { name: 'a b', reason: 'invalid-name' },
      { name: 'n', reason: 'invalid-value' },
    ]);
    expect(RESERVED_HEADERS.has('x-webhook-signature')).toBe(true);
  });
});

describe('Standard Webhooks signature', () => {
  it.each([
    ['a whsec_ secret', whsec, Buffer.from('0123456789abcdef0123456789abcdef')],
    ['a plain secret (UTF-8 bytes)', plain, Buffer.from(plain, 'utf8')],
  ])('verifies with Webhook.verify and an independent HMAC for %s', (_name, secret, key) => {
    const h = sign(secret);
    const receiver = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(key, { format: 'raw' });
    expect(receiver.verify(body, h)).toEqual(JSON.parse(body));
    expect(h['webhook-signature']).toBe(
      independentStandardSig(key, 'evt_123', h['webhook-timestamp'] as string, body),
    );
  });

  it('a tampered body fails Webhook.verify', () => {
    const h = sign(whsec);
    const tampered = body.replace('status-update', 'status-updatE');
    expect(() => new Webhook(whsec).verify(tampered, h)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(whsec).verify(body, { ...h, 'webhook-id': 'evt_other' })).toThrow(
      WebhookVerificationError,
    );
  });

  it('uses UTF-8 (not Latin-1) for non-ASCII raw secrets', () => {
    const h = sign('ключ');
    const utf8 = Buffer.from('ключ', 'utf8');
    expect(new Webhook(utf8, { format: 'raw' }).verify(body, h)).toBeTruthy();
  });

  it('rejects malformed whsec_ secrets', () => {
    expect(() => standardWebhooksSigner('whsec_not base64!')).toThrow(WebhookSecretError);
    expect(() => standardWebhooksSigner('whsec_')).toThrow(WebhookSecretError);
    expect(() => standardWebhooksSigner('')).toThrow(WebhookSecretError);
    expect(() => sign('whsec_%%%')).toThrow(WebhookSecretError);
    expect(webhookSecretProblem('whsec_%%%')).toMatch(/base64/);
    expect(webhookSecretProblem(whsec)).toBeNull();
    expect(webhookSecretProblem('anything goes')).toBeNull();
  });
});

describe('x-webhook-signature (sha256=)', () => {
  it('matches an independent createHmac over "timestamp.body" keyed with the UTF-8 secret', () => {
    for (const secret of [plain, whsec]) {
      const h = sign(secret);
      const ts = h['x-webhook-timestamp'] as string;
      const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
        .update(`${ts}.${body}`)
        .digest('hex');
      expect(h['x-webhook-signature']).toBe(`sha256=${expected}`);
      expect(verifyHmacSignature({ secret, body, signature: h['x-webhook-signature'], timestamp: ts })).toBe(
        true,
      );
    }
  });

  it('a tampered body, timestamp or secret fails', () => {
    const h = sign(plain);
    const ts = h['x-webhook-timestamp'] as string;
    const signature = h['x-webhook-signature'];
    const tampered = body.replace('héllo', 'hello');
    const independent = createHmac('sha256', Buffer.from(plain, 'utf8'))
      .update(`${ts}.${tampered}`)
      .digest('hex');
    expect(signature).not.toBe(`sha256=${independent}`);
    expect(verifyHmacSignature({ secret: plain, body: tampered, signature, timestamp: ts })).toBe(false);
    expect(verifyHmacSignature({ secret: plain, body, signature, timestamp: String(Number(ts) + 1) })).toBe(
      false,
    );
    expect(verifyHmacSignature({ secret: 'other', body, signature, timestamp: ts })).toBe(false);
    expect(verifyHmacSignature({ secret: plain, body, signature: 'sha256=zz', timestamp: ts })).toBe(false);
    expect(verifyHmacSignature({ secret: plain, body, signature: undefined, timestamp: ts })).toBe(false);
  });

  it('checks the timestamp tolerance, in seconds', () => {
    const ts = 1_735_689_600;
    const signature = hmacSignature(plain, ts, body);
    const at = (nowMs: number, toleranceSeconds?: number) =>
      verifyHmacSignature({ secret: plain, body, signature, timestamp: String(ts), nowMs, toleranceSeconds });
    expect(at(ts * 1000 + 299_000)).toBe(true);
    expect(at(ts * 1000 + 301_000)).toBe(false);
    expect(at(ts * 1000 - 301_000)).toBe(false);
    expect(at(ts * 1000 + 10 * 86_400_000, 0)).toBe(true);
    // A Buffer body (raw bytes as received) works too.
    expect(
      verifyHmacSignature({
        secret: plain,
        body: Buffer.from(body),
        signature,
        timestamp: String(ts),
        nowMs: ts * 1000,
      }),
    ).toBe(true);
  });
});

describe('end to end over HTTP', () => {
  it('a receiver verifies both signatures on the raw body it got', async () => {
    const s = await startServer((_req, res) => res.end('{}'));
    try {
      const headers = sign(whsec, Date.now(), { 'X-Customer': 'acme' });
      const r = await sendWebhook({
        url: `${s.origin}/hook`,
        headers,
        body,
        timeoutMs: 5_000,
        maxResponseBytes: 1024,
        allowPrivate: true,
      });
      expect(r.ok).toBe(true);
      const got = s.requests[0];
      if (!got) throw new Error('no request');
      const flat = Object.fromEntries(
        Object.entries(got.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
      );
      expect(flat['x-customer']).toBe('acme');
      expect(flat['content-type']).toBe('application/json');
      expect(new Webhook(whsec).verify(got.body, flat)).toEqual(JSON.parse(body));
      expect(
        verifyHmacSignature({
          secret: whsec,
          body: got.body,
          signature: flat['x-webhook-signature'],
          timestamp: flat['x-webhook-timestamp'],
        }),
      ).toBe(true);
    } finally {
      await s.close();
    }
  });
});
