/**
 * Twilio's request signature, `X-Twilio-Signature` (twilio-node src/webhooks/webhooks.ts;
 * Twilio "Webhooks security"): base64(HMAC-SHA1(authToken, url + Σ sorted(key + value))) over
 * the POST parameters (a repeated key contributes each distinct value, sorted). A JSON body is
 * signed through the URL instead: the URL carries `bodySHA256=hex(sha256(body))` and no
 * parameters are added. The media WebSocket upgrade is signed over its `wss://` URL with no
 * parameters. Like twilio-node, the URL is tried as given, with its default port added and with
 * it removed (proxies differ). Always over the configured public URL, never the Host header.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type SignedParams = ReadonlyMap<string, readonly string[]> | Readonly<Record<string, string>>;

/** The signature Twilio computes for `url` and its POST parameters. */
export function twilioSignature(authToken: string, url: string, params?: SignedParams): string {
  const hmac = createHmac('sha1', authToken);
  hmac.update(url, 'utf8');
  if (params) {
    const entries: [string, readonly string[]][] =
      params instanceof Map
        ? [...(params as ReadonlyMap<string, readonly string[]>).entries()]
        : Object.entries(params as Readonly<Record<string, string>>).map(([k, v]) => [k, [v]]);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, values] of entries) {
      for (const value of [...new Set(values)].sort()) hmac.update(key + value, 'utf8');
    }
  }
  return hmac.digest('base64');
}

/** Form parameters as Twilio signs them: every value of every key. */
export function formParams(body: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(body)) {
    const values = params.get(key);
    if (values) values.push(value);
    else params.set(key, [value]);
  }
  return params;
}

/** Constant-time comparison of two signatures (base64 text). */
export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  'https:': '443',
  'wss:': '443',
  'http:': '80',
  'ws:': '80',
};

/** The URL as given, with its scheme's default port, and without any port (twilio-node's variants). */
export function urlVariants(url: string): string[] {
  const variants = [url];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return variants;
  }
  const defaultPort = DEFAULT_PORTS[parsed.protocol];
  if (!defaultPort) return variants;
  const rest = url.slice(url.indexOf('//') + 2);
  const slash = rest.search(/[/?#]/);
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const tail = slash === -1 ? '' : rest.slice(slash);
  const host = authority.replace(/:\d+$/, '');
  const hasPort = host !== authority;
  const scheme = `${parsed.protocol}//`;
  if (hasPort) variants.push(`${scheme}${host}${tail}`);
  else variants.push(`${scheme}${host}:${defaultPort}${tail}`);
  return variants;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks `signature` for a request Twilio made to `url` with `rawBody` (form-encoded POST
 * parameters, JSON signed through `bodySHA256`, or nothing for GET and WebSocket upgrades).
 */
export function checkTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  rawBody: Buffer,
  contentType: string | undefined,
): SignatureCheck {
  if (!signature) return { ok: false, reason: 'missing X-Twilio-Signature header' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'the request URL is not absolute' };
  }
  let params: Map<string, string[]> | undefined;
  const bodyHash = parsed.searchParams.get('bodySHA256');
  if (bodyHash !== null) {
    const actual = createHash('sha256').update(rawBody).digest('hex');
    if (!signaturesEqual(actual, bodyHash.toLowerCase()))
      return { ok: false, reason: 'bodySHA256 does not match the body' };
  } else if (rawBody.length > 0) {
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded')
      return {
        ok: false,
        reason: `a body of type ${type || 'unknown'} needs bodySHA256 in the signed URL`,
      };
    params = formParams(rawBody.toString('utf8'));
  }
  for (const candidate of urlVariants(url)) {
    if (signaturesEqual(twilioSignature(authToken, candidate, params), signature)) return { ok: true };
  }
  return { ok: false, reason: 'X-Twilio-Signature does not match' };
}
