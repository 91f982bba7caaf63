/**
 * Signature verification for the three schemes Parley sends (README "Signing"):
 *
 * - `standard`: Standard Webhooks. `webhook-signature: v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`
 *   (several space-separated signatures allowed), `webhook-id`, `webhook-timestamp` (Unix seconds).
 *   Key: the base64 after `whsec_` for such a secret, else the secret's UTF-8 bytes.
 * - `sha256`: `x-webhook-signature: sha256=<hex HMAC-SHA256(utf8(secret), "timestamp.body")>`,
 *   `x-webhook-timestamp` (Unix seconds).
 * - `secret`: `x-interactly-secret: <secret>` (a shared secret, no body integrity).
 *
 * Web Crypto only (Node 20+, Deno, Bun, Cloudflare Workers, browsers): `crypto.subtle.verify`
 * compares in constant time; the shared secret is compared with a constant-time loop.
 * Always over the RAW body: re-serialised JSON does not have the same bytes.
 */
import { type HeadersLike, header } from './headers.js';

export type SignatureScheme = 'standard' | 'sha256' | 'secret';

export type VerificationErrorCode =
  | 'missing_signature'
  | 'invalid_signature'
  | 'invalid_timestamp'
  | 'stale_timestamp'
  | 'invalid_secret';

export class WebhookVerificationError extends Error {
  constructor(
    readonly code: VerificationErrorCode,
    message: string,
    /** The header at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifyOptions {
  /** Maximum age (or clock skew) of the timestamp, in seconds; default 300. 0 disables the check. */
  toleranceSeconds?: number;
  /** Schemes accepted, tried in this order; default all three, strongest first. */
  schemes?: readonly SignatureScheme[];
  /** The current time, epoch ms (tests). */
  nowMs?: number;
}

export interface VerifiedRequest {
  scheme: SignatureScheme;
  /** `webhook-id` (the event id), when sent. */
  id: string | undefined;
  /** The signed timestamp, Unix seconds (undefined for `secret`). */
  timestampSeconds: number | undefined;
}

export type RawBody = string | Uint8Array | ArrayBuffer;

const encoder = new TextEncoder();
const DEFAULT_SCHEMES: readonly SignatureScheme[] = ['standard', 'sha256', 'secret'];

export function bodyBytes(body: RawBody): Uint8Array {
  if (typeof body === 'string') return encoder.encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

function concat(prefix: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(prefix);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

async function hmacKey(bytes: Uint8Array<ArrayBuffer>): Promise<HmacKey> {
  return crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify', 'sign']);
}

/** Constant-time equality of two strings' UTF-8 bytes (the length is not hidden). */
export function timingSafeEqualString(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i % Math.max(1, y.length)] ?? 0);
  return diff === 0;
}

function checkTimestamp(value: string | undefined, name: string, options: VerifyOptions): number {
  if (value === undefined)
    throw new WebhookVerificationError('invalid_timestamp', `${name} is missing`, name);
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new WebhookVerificationError('invalid_timestamp', `${name} must be Unix seconds`, name);
  }
  const seconds = Number(value.trim());
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (tolerance > 0 && Math.abs(now - seconds) > tolerance) {
    throw new WebhookVerificationError(
      'stale_timestamp',
      `${name} is ${now - seconds} s from now; more than the ${tolerance} s tolerance`,
      name,
    );
  }
  return seconds;
}

function standardKey(secret: string): Uint8Array<ArrayBuffer> {
  if (!secret.startsWith('whsec_')) return encoder.encode(secret);
  const key = base64ToBytes(secret.slice('whsec_'.length));
  if (!key)
    throw new WebhookVerificationError('invalid_secret', 'a whsec_ secret must be followed by base64');
  return key;
}

async function verifyStandard(
  body: Uint8Array,
  headers: HeadersLike,
  secret: string,
  options: VerifyOptions,
) {
  const signatures = header(headers, 'webhook-signature') ?? '';
  const id = header(headers, 'webhook-id');
  if (!id) throw new WebhookVerificationError('missing_signature', 'webhook-id is missing', 'webhook-id');
  const ts = checkTimestamp(header(headers, 'webhook-timestamp'), 'webhook-timestamp', options);
  const key = await hmacKey(standardKey(secret));
  const signed = concat(`${id}.${ts}.`, body);
  for (const part of signatures.split(' ')) {
    const [version, sig] = part.split(',', 2);
    if (version !== 'v1' || !sig) continue;
    const bytes = base64ToBytes(sig);
    if (bytes && (await crypto.subtle.verify('HMAC', key, bytes, signed))) {
      return { scheme: 'standard' as const, id, timestampSeconds: ts };
    }
  }
  throw new WebhookVerificationError(
    'invalid_signature',
    'webhook-signature does not match the body (verify the raw body, not re-serialised JSON)',
    'webhook-signature',
  );
}

async function verifySha256(body: Uint8Array, headers: HeadersLike, secret: string, options: VerifyOptions) {
  const given = (header(headers, 'x-webhook-signature') ?? '').trim().replace(/^sha256=/i, '');
  const ts = checkTimestamp(header(headers, 'x-webhook-timestamp'), 'x-webhook-timestamp', options);
  const bytes = given.length === 64 ? hexToBytes(given) : undefined;
  const key = await hmacKey(encoder.encode(secret));
  if (bytes && (await crypto.subtle.verify('HMAC', key, bytes, concat(`${ts}.`, body)))) {
    return { scheme: 'sha256' as const, id: header(headers, 'webhook-id'), timestampSeconds: ts };
  }
  throw new WebhookVerificationError(
    'invalid_signature',
    'x-webhook-signature does not match the body (verify the raw body, not re-serialised JSON)',
    'x-webhook-signature',
  );
}

const SCHEME_HEADER: Record<SignatureScheme, string> = {
  standard: 'webhook-signature',
  sha256: 'x-webhook-signature',
  secret: 'x-interactly-secret',
};

/**
 * Verifies a delivery. The first accepted scheme whose signature header is present decides (a
 * present but wrong signature is never rescued by a weaker scheme). Resolves with the scheme
 * used; rejects with a {@link WebhookVerificationError} (`code`, `field`) otherwise.
 */
export async function verify(
  rawBody: RawBody,
  headers: HeadersLike,
  secret: string,
  options: VerifyOptions = {},
): Promise<VerifiedRequest> {
  if (typeof secret !== 'string' || secret === '') {
    throw new WebhookVerificationError('invalid_secret', 'the secret to verify with is empty');
  }
  const body = bodyBytes(rawBody);
  for (const scheme of options.schemes ?? DEFAULT_SCHEMES) {
    const value = header(headers, SCHEME_HEADER[scheme]);
    if (value === undefined) continue;
    if (scheme === 'standard') return verifyStandard(body, headers, secret, options);
    if (scheme === 'sha256') return verifySha256(body, headers, secret, options);
    if (timingSafeEqualString(value, secret)) {
      return { scheme, id: header(headers, 'webhook-id'), timestampSeconds: undefined };
    }
    throw new WebhookVerificationError(
      'invalid_signature',
      'x-interactly-secret is wrong',
      'x-interactly-secret',
    );
  }
  const names = (options.schemes ?? DEFAULT_SCHEMES).map((s) => SCHEME_HEADER[s]).join(', ');
  throw new WebhookVerificationError('missing_signature', `no signature header (expected one of ${names})`);
}

/** Signs a body the way Parley does (all headers of a real delivery); for tests and `parley listen`. */
export async function sign(input: {
  secret: string;
  id: string;
  type: string;
  body: RawBody;
  timestampSeconds?: number;
}): Promise<Record<string, string>> {
  const ts = input.timestampSeconds ?? Math.floor(Date.now() / 1000);
  const body = bodyBytes(input.body);
  const hmac = async (key: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>) =>
    new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(key), data));
  const std = await hmac(standardKey(input.secret), concat(`${input.id}.${ts}.`, body));
  const hex = await hmac(encoder.encode(input.secret), concat(`${ts}.`, body));
  return {
    'content-type': 'application/json',
    'webhook-id': input.id,
    'webhook-timestamp': String(ts),
    'x-webhook-event': input.type,
    'x-webhook-timestamp': String(ts),
    'x-interactly-secret': input.secret,
    'webhook-signature': `v1,${btoa(String.fromCharCode(...std))}`,
    'x-webhook-signature': `sha256=${[...hex].map((b) => b.toString(16).padStart(2, '0')).join('')}`,
  };
}
