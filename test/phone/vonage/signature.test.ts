// Vonage signatures: HS256 signed webhooks (secret, payload_hash, iat freshness, application)
// built here with node:crypto, and the RS256 JWT of REST calls checked by the simulator.
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generateVonageKeys,
  restAuthProblem,
  type VonageKeys,
  webhookAuthorization,
} from '../../../src/testing/carriers/vonage/signing.js';
import type { CarrierAccount, CarrierHttpRequest } from '../../../src/transports/phone/carrier.js';
import { vonageCarrier } from '../../../src/transports/phone/vonage/carrier.js';
import { decodeJwt, privateKeyOf, restJwt, sha256Hex } from '../../../src/transports/phone/vonage/jwt.js';

const SECRET = 'sig-secret-0123456789';
const APP = 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const account: CarrierAccount = {
  credentials: { applicationId: APP, privateKey: 'unused', signatureSecret: SECRET },
  apiBaseUrl: 'https://api.nexmo.com',
};
const BODY = JSON.stringify({
  from: '447700900001',
  to: '447700900000',
  uuid: '63f61863-4a51-4f6b-86e1-46edebcf9356',
  conversation_uuid: 'CON-f972836a-550f-45fa-956c-12a2ab5b7d22',
  status: 'answered',
  direction: 'inbound',
  timestamp: '2026-12-07T12:00:00.000Z',
});

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** A JWT built by hand (not with the adapter's signer), as Vonage would. */
function jwt(claims: object, secret = SECRET, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function claims(body: string, overrides: object = {}) {
  return {
    iat: NOW / 1000,
    jti: 'a9f0d9f2-1e7c-4d7e-9d2c-000000000001',
    iss: 'Vonage',
    api_key: 'abcd1234',
    application_id: APP,
    payload_hash: createHash('sha256').update(body).digest('hex'),
    ...overrides,
  };
}

function request(body: string, authorization: string | undefined, method = 'POST'): CarrierHttpRequest {
  return {
    method,
    url: 'https://parley.example.com/telephony/vonage/n1/status',
    headers: { authorization, 'content-type': 'application/json' },
    rawBody: Buffer.from(body),
  };
}

const verify = (req: CarrierHttpRequest, nowMs = NOW) => vonageCarrier.verifyWebhook(req, account, nowMs);

describe('Vonage signed webhooks', () => {
  it('accepts a webhook signed with the signature secret and the body hash', () => {
    expect(verify(request(BODY, `Bearer ${jwt(claims(BODY))}`))).toEqual({ ok: true });
  });

  it('checks payload_hash = hex SHA-256 of the raw body', () => {
    const hash = claims(BODY).payload_hash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(sha256Hex(Buffer.from(BODY)));
  });

  it('refuses a tampered body', () => {
    const tampered = BODY.replace('answered', 'completed');
    const result = verify(request(tampered, `Bearer ${jwt(claims(BODY))}`));
    expect(result).toEqual({ ok: false, reason: 'payload_hash does not match the body' });
  });

  it('refuses a body without payload_hash', () => {
    const { payload_hash: _, ...rest } = claims(BODY);
    expect(verify(request(BODY, `Bearer ${jwt(rest)}`))).toMatchObject({ ok: false, reason: /payload_hash/ });
  });

  it('refuses the wrong secret', () => {
    const result = verify(request(BODY, `Bearer ${jwt(claims(BODY), 'another-secret')}`));
    expect(result).toMatchObject({ ok: false, reason: /signature/ });
  });

  it('refuses a stale or future iat (5 minutes)', () => {
    const req = request(BODY, `Bearer ${jwt(claims(BODY))}`);
    expect(verify(req, NOW + 299_000)).toEqual({ ok: true });
    expect(verify(req, NOW + 301_000)).toEqual({ ok: false, reason: 'JWT iat is 301 s old (limit 300 s)' });
    expect(verify(req, NOW - 301_000)).toEqual({
      ok: false,
      reason: 'JWT iat is 301 s in the future (limit 300 s)',
    });
  });

  it('refuses missing, non-Bearer, malformed, alg none and wrong-application tokens', () => {
    expect(verify(request(BODY, undefined))).toMatchObject({ ok: false, reason: /missing/ });
    expect(verify(request(BODY, `Basic ${b64url('a:b')}`))).toMatchObject({ ok: false, reason: /Bearer/ });
    expect(verify(request(BODY, 'Bearer abc.def'))).toMatchObject({ ok: false, reason: /three parts/ });
    expect(verify(request(BODY, 'Bearer !!.??.xx'))).toMatchObject({ ok: false });
    const none = `${b64url(JSON.stringify({ alg: 'none' }))}.${b64url(JSON.stringify(claims(BODY)))}.`;
    expect(verify(request(BODY, `Bearer ${none}`))).toMatchObject({ ok: false, reason: /not HS256/ });
    const other = jwt(claims(BODY, { application_id: 'someone-else' }));
    expect(verify(request(BODY, `Bearer ${other}`))).toMatchObject({ ok: false, reason: /application_id/ });
    const noIat = jwt(claims(BODY, { iat: 'yesterday' }));
    expect(verify(request(BODY, `Bearer ${noIat}`))).toMatchObject({ ok: false, reason: /iat/ });
  });

  it('accepts a GET (empty body) without payload_hash', () => {
    const { payload_hash: _, ...rest } = claims('');
    expect(verify(request('', `Bearer ${jwt(rest)}`, 'GET'))).toEqual({ ok: true });
  });

  it('refuses a number without a signature secret', () => {
    const result = vonageCarrier.verifyWebhook(
      request(BODY, `Bearer ${jwt(claims(BODY))}`),
      { credentials: { applicationId: APP }, apiBaseUrl: '' },
      NOW,
    );
    expect(result).toMatchObject({ ok: false, reason: /signatureSecret/ });
  });

  it('lets the media upgrade through (its path token authenticates it)', () => {
    expect(vonageCarrier.verifyMediaUpgrade(request('', undefined, 'GET'), account, NOW)).toEqual({
      ok: true,
    });
  });
});

describe('the simulator signs like Vonage', () => {
  let keys: VonageKeys;
  let simAccount: CarrierAccount;
  beforeAll(() => {
    keys = generateVonageKeys();
    simAccount = {
      credentials: {
        applicationId: keys.applicationId,
        privateKey: keys.privateKeyPem,
        signatureSecret: keys.signatureSecret,
      },
      apiBaseUrl: '',
    };
  });

  it('valid, bad and stale webhooks', () => {
    const now = Date.now();
    const check = (mode: 'valid' | 'bad' | 'stale') =>
      vonageCarrier.verifyWebhook(request(BODY, webhookAuthorization(keys, BODY, mode)), simAccount, now);
    expect(check('valid')).toEqual({ ok: true });
    expect(check('bad')).toMatchObject({ ok: false, reason: /signature/ });
    expect(check('stale')).toMatchObject({ ok: false, reason: /iat/ });
  });

  it('verifies the RS256 REST JWT with the application public key', () => {
    const token = restJwt(keys.applicationId, keys.privateKeyPem, Date.now());
    const decoded = decodeJwt(token);
    expect(decoded.header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(Object.keys(decoded.claims).sort()).toEqual(['application_id', 'exp', 'iat', 'jti']);
    expect(restAuthProblem(keys, `Bearer ${token}`)).toBeUndefined();

    const stranger = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(
      restAuthProblem(keys, `Bearer ${restJwt(keys.applicationId, String(stranger), Date.now())}`),
    ).toMatch(/signature/);
    expect(restAuthProblem(keys, `Bearer ${restJwt('other-app', keys.privateKeyPem, Date.now())}`)).toMatch(
      /application_id/,
    );
    expect(
      restAuthProblem(
        keys,
        `Bearer ${restJwt(keys.applicationId, keys.privateKeyPem, Date.now() - 3_600_000)}`,
      ),
    ).toBe('expired');
    expect(restAuthProblem(keys, undefined)).toMatch(/missing/);
  });

  it('explains a private key that is not one', () => {
    expect(() => privateKeyOf('not a key')).toThrow(/privateKey is not a PEM private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(() => privateKeyOf(String(ec))).toThrow(/RSA/);
  });
});
