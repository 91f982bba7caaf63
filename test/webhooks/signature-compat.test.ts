import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { buildSignedHeaders, standardWebhooksSignature } from '../../src/shared/webhook-signing.js';

describe('Standard Webhooks signature', () => {
  it.each([
    ['whsec_ secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['plain secret', 'plain-secret-ü-€'],
  ])('is byte-identical to the standardwebhooks package for a %s, and verifies', (_name, secret) => {
    const body = JSON.stringify({ message: { type: 'status-update', text: 'héllo' } });
    const seconds = Math.floor(Date.now() / 1000);
    const ours = standardWebhooksSignature(secret, 'evt_1', seconds, body);
    const pkg = secret.startsWith('whsec_')
      ? new Webhook(secret)
      : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
    expect(ours).toBe(pkg.sign('evt_1', new Date(seconds * 1000), body));
    const headers = buildSignedHeaders({
      eventId: 'evt_1',
      eventType: 'status-update',
      timestampMs: seconds * 1000,
      body,
      secret,
    });
    expect(() => pkg.verify(body, headers)).not.toThrow();
    expect(() => pkg.verify(`${body} `, headers)).toThrow();
  });
});
