/**
 * Request headers and signatures for webhook deliveries (CONTRACT.md, "Delivery").
 *
 * Two signatures are sent when the assistant has a secret:
 *
 * - Standard Webhooks: `webhook-id` (the event id), `webhook-timestamp` (Unix SECONDS, as the spec
 *   says) and `webhook-signature: v1,<base64 HMAC-SHA256 over "id.timestamp.body">`, computed by the
 *   `standardwebhooks` package. Key: a `whsec_…` secret is read as the spec does (base64 after the
 *   prefix); any other secret is used as its UTF-8 bytes.
 * - Seed 002's platform: `x-webhook-event`, `x-webhook-timestamp` and
 *   `x-webhook-signature: sha256=<hex HMAC-SHA256 over "timestamp.body">`, keyed with the secret's
 *   UTF-8 bytes (always, also for `whsec_` secrets).
 *
 * Timestamp unit of `x-webhook-timestamp`: Unix SECONDS. Seed 002 does not state the unit; the contract
 * names the header next to Standard Webhooks' `webhook-timestamp`, which is in seconds, and seconds is
 * what Stripe/GitHub-style `t.body` schemes use. Both timestamp headers therefore carry the same value
 * (floor(timestampMs / 1000)), and that exact string is what the `sha256=` signature covers.
 *
 * The HMAC for `sha256=` and the verifier use node:crypto: a one-liner, no library needed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Headers the platform sets; an assistant's custom headers cannot override them. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'x-interactly-secret',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-webhook-event',
  'x-webhook-timestamp',
  'x-webhook-signature',
]);

/** Connection-level headers the HTTP client owns (undici rejects several of them outright). */
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'expect',
  'te',
  'trailer',
]);

// RFC 9110 token.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// No CR, LF or NUL (header injection); other control characters are refused by undici anyway.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const BAD_HEADER_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export interface CustomHeadersResult {
  headers: Record<string, string>;
  /** Names (as given) that were dropped, with why. */
  dropped: { name: string; reason: 'reserved' | 'transport' | 'invalid-name' | 'invalid-value' }[];
}

/** Lower-cases names and drops reserved, transport-level and malformed headers. */
export function sanitizeCustomHeaders(headers: Record<string, unknown> | undefined): CustomHeadersResult {
  const out: Record<string, string> = {};
  const dropped: CustomHeadersResult['dropped'] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) dropped.push({ name, reason: 'invalid-name' });
    else if (RESERVED_HEADERS.has(lower)) dropped.push({ name, reason: 'reserved' });
    else if (TRANSPORT_HEADERS.has(lower)) dropped.push({ name, reason: 'transport' });
    else if (
      (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') ||
      BAD_HEADER_VALUE.test(String(value))
    )
      dropped.push({ name, reason: 'invalid-value' });
    else out[lower] = String(value);
  }
  return { headers: out, dropped };
}

export class WebhookSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSecretError';
  }
}

/**
 * The Standard Webhooks signer for a secret. `whsec_<base64>` is decoded as the spec says; anything
 * else is used as its UTF-8 bytes (passed as a Uint8Array with `format: 'raw'`, because the package
 * turns a raw *string* into bytes with `charCodeAt`, i.e. Latin-1, not UTF-8).
 * Throws {@link WebhookSecretError} for an empty secret or a `whsec_` secret whose rest is not base64.
 */
export function standardWebhooksSigner(secret: string): Webhook {
  if (secret.length === 0) throw new WebhookSecretError('webhook secret is empty');
  if (secret.startsWith('whsec_')) {
    const b64 = secret.slice('whsec_'.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new WebhookSecretError('a whsec_ secret must be followed by standard base64');
    }
    try {
      return new Webhook(secret);
    } catch (err) {
      throw new WebhookSecretError(`invalid whsec_ secret: ${(err as Error).message}`);
    }
  }
  return new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
}

/** Problems with a secret, for validating assistant configuration before any delivery; null if fine. */
export function webhookSecretProblem(secret: string): string | null {
  try {
    standardWebhooksSigner(secret);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`, byte for byte what the `standardwebhooks`
 * package's `Webhook.sign` produces (a test checks the equality and that `Webhook.verify`
 * accepts it). Signed here with node:crypto because the package hashes in pure JavaScript
 * (fast-sha256), which was the largest single CPU cost of delivery in the benchmark.
 * The key is read (and a malformed `whsec_` secret refused) by the package itself, once per secret.
 */
const signingKeys = new Map<string, Buffer>();
export function standardWebhooksSignature(
  secret: string,
  eventId: string,
  timestampSeconds: number,
  body: string,
): string {
  let key = signingKeys.get(secret);
  if (!key) {
    standardWebhooksSigner(secret); // validates, throws WebhookSecretError
    key = secret.startsWith('whsec_')
      ? Buffer.from(secret.slice('whsec_'.length), 'base64')
      : Buffer.from(secret, 'utf8');
    if (signingKeys.size > 10_000) signingKeys.clear();
    signingKeys.set(secret, key);
  }
  const mac = createHmac('sha256', key)
    .update(`${eventId}.${timestampSeconds}.`, 'utf8')
    .update(body, 'utf8');
  return `v1,${mac.digest('base64')}`;
}

/** `sha256=<hex HMAC-SHA256(utf8(secret), "<timestampSeconds>.<body>")>` */
export function hmacSignature(secret: string, timestampSeconds: number | string, body: string): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(`${timestampSeconds}.`, 'utf8');
  mac.update(body, 'utf8');
  return `sha256=${mac.digest('hex')}`;
}

export interface SignedHeadersInput {
  eventId: string;
  eventType: string;
  /** When the event is sent (ms); converted to Unix seconds for both timestamp headers. */
  timestampMs: number;
  /** The exact body that will be sent. */
  body: string;
  secret?: string | null;
  /** The assistant's custom headers. */
  headers?: Record<string, unknown> | null;
}

/**
 * All request headers for one delivery attempt, lower-case names. Without a secret: content-type,
 * custom headers, `webhook-id`, `webhook-timestamp`, `x-webhook-event`, `x-webhook-timestamp`.
 * With a secret, also `x-interactly-secret`, `webhook-signature` and `x-webhook-signature`.
 * Throws {@link WebhookSecretError} for a malformed `whsec_` secret (see {@link webhookSecretProblem}).
 */
export function buildSignedHeaders(input: SignedHeadersInput): Record<string, string> {
  const seconds = Math.floor(input.timestampMs / 1000);
  const headers: Record<string, string> = {
    ...sanitizeCustomHeaders(input.headers ?? undefined).headers,
    'content-type': 'application/json',
    'webhook-id': input.eventId,
    'webhook-timestamp': String(seconds),
    'x-webhook-event': input.eventType,
    'x-webhook-timestamp': String(seconds),
  };
  const secret = input.secret;
  if (secret) {
    headers['x-interactly-secret'] = secret;
    headers['webhook-signature'] = standardWebhooksSignature(secret, input.eventId, seconds, input.body);
    headers['x-webhook-signature'] = hmacSignature(secret, seconds, input.body);
  }
  return headers;
}

export interface VerifyHmacInput {
  secret: string;
  /** The raw request body, exactly as received. */
  body: string | Buffer;
  /** The `x-webhook-signature` header (`sha256=<hex>`; a bare hex digest is accepted too). */
  signature: string | undefined;
  /** The `x-webhook-timestamp` header (Unix seconds). */
  timestamp: string | undefined;
  /** Maximum age/skew in seconds; default 300, 0 or Infinity disables the check. */
  toleranceSeconds?: number;
  nowMs?: number;
}

/**
 * Verifies `x-webhook-signature` for a receiver (constant-time compare). Returns false rather than
 * throwing on any malformed input.
 */
export function verifyHmacSignature(input: VerifyHmacInput): boolean {
  const { secret, signature, timestamp } = input;
  if (!secret || !signature || !timestamp || !/^\d+$/.test(timestamp.trim())) return false;
  const ts = timestamp.trim();
  const tolerance = input.toleranceSeconds ?? 300;
  if (tolerance > 0 && Number.isFinite(tolerance)) {
    const now = Math.floor((input.nowMs ?? Date.now()) / 1000);
    if (Math.abs(now - Number(ts)) > tolerance) return false;
  }
  const given = signature.trim().replace(/^sha256=/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(given)) return false;
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(`${ts}.`, 'utf8');
  mac.update(typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body);
  return timingSafeEqual(mac.digest(), Buffer.from(given, 'hex'));
}
