import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CarrierHttpRequest } from '../../../src/transports/phone/carrier.js';
import { plivoCarrier } from '../../../src/transports/phone/plivo/carrier.js';
import {
  plivoV3BaseString,
  plivoV3Signature,
  verifyPlivoV3,
} from '../../../src/transports/phone/plivo/signature.js';

// Vectors computed here with node:crypto from the base strings plivo-node's v3Security.js builds
// (construct_get_url / construct_post_url + "." + nonce), written out by hand.
const TOKEN = 'MjE4OGJkZjQ4ZmJmMjhiNDc2NGM5NzlkNWU4MjE2';
const hmac = (base: string) => createHmac('sha256', TOKEN).update(base).digest('base64');
const account = {
  credentials: { authId: 'MAXXXXXXXXXXXXXXXXXX', authToken: TOKEN },
  apiBaseUrl: 'https://api.plivo.com',
};

function postRequest(url: string, form: string, headers: Record<string, string>): CarrierHttpRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    rawBody: Buffer.from(form),
  };
}

describe('Plivo signature V3', () => {
  it('POST with a query: sorted query, ".", sorted key+value pairs, ".", nonce', () => {
    const url = 'https://parley.example.com/telephony/plivo/n1/inbound?b=2&a=1';
    const form = new URLSearchParams({ To: '14155550100', From: '14155550199', CallUUID: 'c-1' });
    const base =
      'https://parley.example.com/telephony/plivo/n1/inbound?a=1&b=2.CallUUIDc-1From14155550199To14155550100';
    expect(plivoV3BaseString('POST', url, form)).toBe(base);
    expect(plivoV3Signature(TOKEN, 'POST', url, '12345', form)).toBe(hmac(`${base}.12345`));
  });

  it('POST without a query still gets the "?" before the parameters (the SDK does)', () => {
    const url = 'https://parley.example.com/x';
    const form = new URLSearchParams([
      ['b', '2'],
      ['a', 'y'],
      ['a', 'x'],
    ]);
    expect(plivoV3BaseString('POST', url, form)).toBe('https://parley.example.com/x?axayb2');
  });

  it('GET: the query decoded and sorted by key then value; no query, no "?"', () => {
    expect(plivoV3BaseString('GET', 'https://h:8443/p?z=1&q=hello%20world&q=a+b')).toBe(
      'https://h:8443/p?q=a b&q=hello world&z=1',
    );
    expect(plivoV3BaseString('GET', 'wss://h/media/PC-1/tok')).toBe('wss://h/media/PC-1/tok');
    expect(plivoV3BaseString('POST', 'https://h/p?x=1')).toBe('https://h/p?x=1');
  });

  it('accepts any signature of a comma-separated list, refuses a wrong nonce or token', () => {
    const url = 'https://parley.example.com/telephony/plivo/n1/inbound';
    const form = 'CallUUID=c-1&From=14155550199&To=14155550100';
    const good = hmac(`${url}?CallUUIDc-1From14155550199To14155550100.n0nce`);
    const other = hmac('something else');
    const ok = postRequest(url, form, {
      'x-plivo-signature-v3': `${other},${good}`,
      'x-plivo-signature-v3-nonce': 'n0nce',
    });
    expect(plivoCarrier.verifyWebhook(ok, account, Date.now())).toEqual({ ok: true });
    const wrongNonce = postRequest(url, form, {
      'x-plivo-signature-v3': good,
      'x-plivo-signature-v3-nonce': 'other',
    });
    expect(plivoCarrier.verifyWebhook(wrongNonce, account, Date.now())).toMatchObject({ ok: false });
    const wrongToken = { ...account, credentials: { ...account.credentials, authToken: 'nope' } };
    expect(plivoCarrier.verifyWebhook(ok, wrongToken, Date.now())).toMatchObject({ ok: false });
    const tampered = postRequest(url, `${form}&Extra=1`, {
      'x-plivo-signature-v3': good,
      'x-plivo-signature-v3-nonce': 'n0nce',
    });
    expect(plivoCarrier.verifyWebhook(tampered, account, Date.now())).toMatchObject({ ok: false });
    const otherUrl = postRequest(`${url}x`, form, {
      'x-plivo-signature-v3': good,
      'x-plivo-signature-v3-nonce': 'n0nce',
    });
    expect(plivoCarrier.verifyWebhook(otherUrl, account, Date.now())).toMatchObject({ ok: false });
  });

  it('names a missing header', () => {
    const req = postRequest('https://h/p', 'a=1', {});
    expect(plivoCarrier.verifyWebhook(req, account, 0)).toEqual({
      ok: false,
      reason: 'missing X-Plivo-Signature-V3',
    });
    const noNonce = postRequest('https://h/p', 'a=1', { 'x-plivo-signature-v3': 'x' });
    expect(plivoCarrier.verifyWebhook(noNonce, account, 0)).toEqual({
      ok: false,
      reason: 'missing X-Plivo-Signature-V3-Nonce',
    });
    expect(
      verifyPlivoV3({
        authToken: TOKEN,
        method: 'GET',
        url: 'not a url',
        signatureHeader: 'x',
        nonceHeader: 'n',
      }),
    ).toMatchObject({ ok: false });
  });

  it('media upgrade: a V3 signature over the https twin of the wss URL is accepted; a wrong one refused; none: the path token decides', () => {
    const url = 'wss://parley.example.com/telephony/plivo/media/PC-1/token123';
    const sig = hmac('https://parley.example.com/telephony/plivo/media/PC-1/token123.abc');
    const req = (headers: Record<string, string>): CarrierHttpRequest => ({
      method: 'GET',
      url,
      headers,
      rawBody: Buffer.alloc(0),
    });
    expect(
      plivoCarrier.verifyMediaUpgrade(
        req({ 'x-plivo-signature-v3': sig, 'x-plivo-signature-v3-nonce': 'abc' }),
        account,
        0,
      ),
    ).toEqual({ ok: true });
    expect(
      plivoCarrier.verifyMediaUpgrade(
        req({ 'x-plivo-signature-v3': sig, 'x-plivo-signature-v3-nonce': 'abd' }),
        account,
        0,
      ),
    ).toMatchObject({ ok: false });
    expect(plivoCarrier.verifyMediaUpgrade(req({}), account, 0)).toEqual({ ok: true });
  });
});
