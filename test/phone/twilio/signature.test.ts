import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CarrierAccount, CarrierHttpRequest } from '../../../src/transports/phone/carrier.js';
import { twilioCarrier } from '../../../src/transports/phone/twilio/carrier.js';
import {
  checkTwilioSignature,
  twilioSignature,
  urlVariants,
} from '../../../src/transports/phone/twilio/signature.js';

// Twilio's documented example ("Webhooks security"; twilio-node spec/unit/webhooks.spec.js).
const TOKEN = '12345';
const URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+12349013030',
  Digits: '1234',
  From: '+12349013030',
  To: '+18005551212',
};
const account: CarrierAccount = {
  credentials: { accountSid: `AC${'0'.repeat(32)}`, authToken: TOKEN },
  apiBaseUrl: 'https://api.twilio.com',
};

function request(
  url: string,
  body: string,
  signature?: string,
  contentType = 'application/x-www-form-urlencoded',
): CarrierHttpRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': contentType, ...(signature ? { 'x-twilio-signature': signature } : {}) },
    rawBody: Buffer.from(body),
  };
}

describe('X-Twilio-Signature', () => {
  it('matches the documented vectors and an independent HMAC', () => {
    expect(twilioSignature(TOKEN, URL, PARAMS)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    // The older snippet's vector (api-snippets signature_validation.2.x.js): other caller numbers.
    const older = { ...PARAMS, Caller: '+14158675309', From: '+14158675309' };
    expect(twilioSignature(TOKEN, URL, older)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    const data =
      URL +
      Object.keys(PARAMS)
        .sort()
        .map((k) => k + PARAMS[k as keyof typeof PARAMS])
        .join('');
    expect(twilioSignature(TOKEN, URL, PARAMS)).toBe(createHmac('sha1', TOKEN).update(data).digest('base64'));
  });

  it('verifies a form POST over the public URL, in any parameter order, and refuses tampering', () => {
    const body = new URLSearchParams(Object.entries(PARAMS).reverse()).toString();
    const signature = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';
    expect(twilioCarrier.verifyWebhook(request(URL, body, signature), account, 0)).toEqual({ ok: true });
    const tampered = body.replace('Digits=1234', 'Digits=9999');
    expect(twilioCarrier.verifyWebhook(request(URL, tampered, signature), account, 0).ok).toBe(false);
    expect(
      twilioCarrier.verifyWebhook(request(URL.replace('bar=2', 'bar=3'), body, signature), account, 0).ok,
    ).toBe(false);
    const other = { ...account, credentials: { ...account.credentials, authToken: 'other' } };
    expect(twilioCarrier.verifyWebhook(request(URL, body, signature), other, 0).ok).toBe(false);
    expect(twilioCarrier.verifyWebhook(request(URL, body), account, 0)).toEqual({
      ok: false,
      reason: 'missing X-Twilio-Signature header',
    });
    expect(
      twilioCarrier.verifyWebhook(request(URL, body, `${signature.slice(0, -2)}A=`), account, 0).ok,
    ).toBe(false);
  });

  it('signs repeated keys with every distinct value, sorted', () => {
    const body = 'StatusCallbackEvent=ringing&StatusCallbackEvent=answered&StatusCallbackEvent=ringing&A=1';
    const expected = createHmac('sha1', TOKEN)
      .update('https://x.test/hookA1StatusCallbackEventansweredStatusCallbackEventringing')
      .digest('base64');
    expect(
      checkTwilioSignature(
        TOKEN,
        expected,
        'https://x.test/hook',
        Buffer.from(body),
        'application/x-www-form-urlencoded',
      ),
    ).toEqual({
      ok: true,
    });
  });

  it('verifies JSON bodies through bodySHA256 (twilio-node vector) and refuses another body', () => {
    const json = '{"property": "value", "boolean": true}';
    const hash = createHash('sha256').update(json).digest('hex');
    expect(hash).toBe('0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620');
    const url = `${URL}&bodySHA256=${hash}`;
    const req = request(url, json, 'a9nBmqA0ju/hNViExpshrM61xv4=', 'application/json');
    expect(twilioCarrier.verifyWebhook(req, account, 0)).toEqual({ ok: true });
    const other = request(url, '{"property": "other"}', 'a9nBmqA0ju/hNViExpshrM61xv4=', 'application/json');
    expect(twilioCarrier.verifyWebhook(other, account, 0)).toEqual({
      ok: false,
      reason: 'bodySHA256 does not match the body',
    });
    // JSON without bodySHA256 cannot be checked: refused, never waved through.
    const unsigned = request(URL, json, twilioSignature(TOKEN, URL), 'application/json');
    expect(twilioCarrier.verifyWebhook(unsigned, account, 0).ok).toBe(false);
  });

  it('accepts the URL signed with or without the default port, like twilio-node', () => {
    expect(urlVariants('https://a.test/x?y=1')).toEqual(['https://a.test/x?y=1', 'https://a.test:443/x?y=1']);
    expect(urlVariants('wss://a.test:443/m/1')).toEqual(['wss://a.test:443/m/1', 'wss://a.test/m/1']);
    const body = new URLSearchParams(PARAMS).toString();
    const withPort = twilioSignature(TOKEN, 'https://mycompany.com:443/myapp.php?foo=1&bar=2', PARAMS);
    expect(twilioCarrier.verifyWebhook(request(URL, body, withPort), account, 0)).toEqual({ ok: true });
    const otherPort = twilioSignature(TOKEN, 'https://mycompany.com:8443/myapp.php?foo=1&bar=2', PARAMS);
    expect(twilioCarrier.verifyWebhook(request(URL, body, otherPort), account, 0).ok).toBe(false);
  });

  it('checks the media upgrade over the wss:// URL with no parameters', () => {
    const wss = 'wss://parley.example.com/telephony/twilio/media/PC-1/tok';
    const signature = twilioSignature(TOKEN, wss);
    const upgrade = (url: string, sig?: string): CarrierHttpRequest => ({
      method: 'GET',
      url,
      headers: sig ? { 'x-twilio-signature': sig } : {},
      rawBody: Buffer.alloc(0),
    });
    expect(twilioCarrier.verifyMediaUpgrade(upgrade(wss, signature), account, 0)).toEqual({ ok: true });
    // The shared route may hand over the https:// form of the same public URL.
    expect(
      twilioCarrier.verifyMediaUpgrade(upgrade(wss.replace('wss:', 'https:'), signature), account, 0),
    ).toEqual({ ok: true });
    expect(twilioCarrier.verifyMediaUpgrade(upgrade(`${wss}x`, signature), account, 0).ok).toBe(false);
    expect(twilioCarrier.verifyMediaUpgrade(upgrade(wss), account, 0).ok).toBe(false);
  });

  it('refuses when the account has no usable credentials', () => {
    const broken = { ...account, credentials: { accountSid: 'nope', authToken: TOKEN } };
    const result = twilioCarrier.verifyWebhook(request(URL, '', 'x'), broken, 0);
    expect(result).toEqual({
      ok: false,
      reason: 'credentials.accountSid must be a Twilio Account SID (AC…)',
    });
  });
});
