import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CarrierAccount, CarrierHttpRequest } from '../../../src/transports/phone/carrier.js';
import { telnyxCarrier } from '../../../src/transports/phone/telnyx/carrier.js';
import { telnyxPublicKey, verifyTelnyxSignature } from '../../../src/transports/phone/telnyx/signature.js';

const NOW_MS = 1_765_000_000_000;
const nowS = String(NOW_MS / 1000);

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x ?? '';
  return { privateKey, publicKey: Buffer.from(x, 'base64url').toString('base64') };
}

function signed(body: string, timestamp: string, privateKey: ReturnType<typeof keyPair>['privateKey']) {
  return sign(null, Buffer.from(`${timestamp}|${body}`), privateKey).toString('base64');
}

describe('Telnyx webhook signatures (Ed25519 over "timestamp|body")', () => {
  const keys = keyPair();
  const body = '{"data":{"event_type":"call.initiated","payload":{"call_control_id":"v3:abc"}}}';

  it('builds the key from the raw base64 public key: RFC 8032 test vector 1 verifies', () => {
    const publicKey = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
    const signature = Buffer.from(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
      'hex',
    );
    const key = telnyxPublicKey(publicKey.toString('base64'));
    expect(verify(null, Buffer.alloc(0), key, signature)).toBe(true);
    expect(verify(null, Buffer.from('x'), key, signature)).toBe(false);
  });

  it('accepts a fresh, correct signature', () => {
    const result = verifyTelnyxSignature({
      rawBody: Buffer.from(body),
      signature: signed(body, nowS, keys.privateKey),
      timestamp: nowS,
      publicKey: keys.publicKey,
      nowMs: NOW_MS,
    });
    expect(result).toEqual({ ok: true });
  });

  it('refuses a tampered body, a tampered timestamp and another key', () => {
    const signature = signed(body, nowS, keys.privateKey);
    const base = { signature, timestamp: nowS, publicKey: keys.publicKey, nowMs: NOW_MS };
    const tamperedBody = verifyTelnyxSignature({ ...base, rawBody: Buffer.from(body.replace('abc', 'abd')) });
    expect(tamperedBody).toEqual({ ok: false, reason: expect.stringContaining('does not match') });
    const tamperedTime = verifyTelnyxSignature({
      ...base,
      rawBody: Buffer.from(body),
      timestamp: String(NOW_MS / 1000 - 1),
    });
    expect(tamperedTime.ok).toBe(false);
    const other = keyPair();
    const otherKey = verifyTelnyxSignature({
      ...base,
      rawBody: Buffer.from(body),
      publicKey: other.publicKey,
    });
    expect(otherKey.ok).toBe(false);
  });

  it('refuses a stale timestamp (over 300 s) and one too far ahead, with the reason', () => {
    const old = String(NOW_MS / 1000 - 301);
    const stale = verifyTelnyxSignature({
      rawBody: Buffer.from(body),
      signature: signed(body, old, keys.privateKey),
      timestamp: old,
      publicKey: keys.publicKey,
      nowMs: NOW_MS,
    });
    expect(stale).toEqual({ ok: false, reason: 'stale telnyx-timestamp: 301 s old (limit 300 s)' });
    const justInside = String(NOW_MS / 1000 - 299);
    expect(
      verifyTelnyxSignature({
        rawBody: Buffer.from(body),
        signature: signed(body, justInside, keys.privateKey),
        timestamp: justInside,
        publicKey: keys.publicKey,
        nowMs: NOW_MS,
      }).ok,
    ).toBe(true);
    const ahead = String(NOW_MS / 1000 + 400);
    const future = verifyTelnyxSignature({
      rawBody: Buffer.from(body),
      signature: signed(body, ahead, keys.privateKey),
      timestamp: ahead,
      publicKey: keys.publicKey,
      nowMs: NOW_MS,
    });
    expect(future).toEqual({ ok: false, reason: expect.stringContaining('in the future') });
  });

  it('refuses missing or malformed headers and keys with clear reasons', () => {
    const base = { rawBody: Buffer.from(body), publicKey: keys.publicKey, nowMs: NOW_MS };
    const signature = signed(body, nowS, keys.privateKey);
    expect(verifyTelnyxSignature({ ...base, signature: undefined, timestamp: nowS })).toEqual({
      ok: false,
      reason: 'missing telnyx-signature-ed25519 header',
    });
    expect(verifyTelnyxSignature({ ...base, signature, timestamp: undefined })).toEqual({
      ok: false,
      reason: 'missing telnyx-timestamp header',
    });
    expect(verifyTelnyxSignature({ ...base, signature, timestamp: '2026-12-07T00:00:00Z' }).ok).toBe(false);
    expect(verifyTelnyxSignature({ ...base, signature: 'bm90IGEgc2lnbmF0dXJl', timestamp: nowS })).toEqual({
      ok: false,
      reason: 'malformed telnyx-signature-ed25519 (not 64 bytes of base64)',
    });
    expect(verifyTelnyxSignature({ ...base, signature, timestamp: nowS, publicKey: 'not-a-key!' })).toEqual({
      ok: false,
      reason: 'publicKey is not a base64 Ed25519 public key (32 bytes)',
    });
    expect(verifyTelnyxSignature({ ...base, signature, timestamp: nowS, publicKey: undefined }).ok).toBe(
      false,
    );
  });

  it('the carrier reads the lower-case headers and the account publicKey; the media upgrade needs no signature', () => {
    const req: CarrierHttpRequest = {
      method: 'POST',
      url: 'https://parley.example/telephony/telnyx/n1/inbound',
      headers: { 'telnyx-signature-ed25519': signed(body, nowS, keys.privateKey), 'telnyx-timestamp': nowS },
      rawBody: Buffer.from(body),
    };
    const account: CarrierAccount = {
      credentials: { apiKey: 'KEY', publicKey: keys.publicKey, connectionId: '1' },
      apiBaseUrl: 'https://api.telnyx.com',
    };
    expect(telnyxCarrier.verifyWebhook(req, account, NOW_MS)).toEqual({ ok: true });
    expect(telnyxCarrier.verifyWebhook(req, account, NOW_MS + 301_000)).toMatchObject({ ok: false });
    expect(
      telnyxCarrier.verifyMediaUpgrade({ ...req, headers: {}, rawBody: Buffer.alloc(0) }, account, NOW_MS),
    ).toEqual({
      ok: true,
    });
  });
});
