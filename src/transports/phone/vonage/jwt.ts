// The two JSON Web Tokens of the Vonage Voice API, with node:crypto (no dependency):
// - signed webhooks: Vonage sends `Authorization: Bearer <JWT>` signed HS256 with the account's
//   signature secret, claims `iat`, `jti`, `iss: "Vonage"`, `application_id`, `api_key` and
//   `payload_hash` = hex SHA-256 of the body (Vonage "Signed webhooks"; telephony.md §1.3;
//   dograh vonage/provider.py `_verify_signed_claims`);
// - REST calls: Parley signs RS256 with the application's private key, claims `application_id`,
//   `iat`, `jti`, `exp` (Vonage "Authentication: JSON Web Tokens").
import {
  createHash,
  createHmac,
  createPrivateKey,
  type KeyObject,
  randomUUID,
  sign,
  timingSafeEqual,
} from 'node:crypto';

/** A signed webhook older (or further in the future) than this is refused. */
export const WEBHOOK_MAX_AGE_MS = 5 * 60 * 1000;
/** Lifetime of the JWT Parley puts on each REST call. */
export const REST_JWT_LIFETIME_S = 15 * 60;

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** `header.payload`, the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

function decodePart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`JWT ${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`JWT ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWT (no signature check); throws with the reason when malformed. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('JWT must have three parts');
  const [header = '', payload = '', signature = ''] = parts;
  if (!/^[A-Za-z0-9_-]*$/.test(signature)) throw new Error('JWT signature is not base64url');
  return {
    header: decodePart(header, 'header'),
    claims: decodePart(payload, 'payload'),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

function encode(header: object, claims: object): string {
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
}

/** An HS256 JWT (what Vonage puts on its webhooks; the simulator and tests sign with it). */
export function signHs256(claims: object, secret: string): string {
  const input = encode({ alg: 'HS256', typ: 'JWT' }, claims);
  return `${input}.${base64url(createHmac('sha256', secret).update(input).digest())}`;
}

export type WebhookCheck = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Verifies a Vonage signed webhook: `Authorization: Bearer <HS256 JWT>` under `secret`, `iat`
 * within `WEBHOOK_MAX_AGE_MS` of `nowMs`, and `payload_hash` equal to the body's SHA-256 when
 * the body is not empty (GET requests have none).
 */
export function verifyWebhookJwt(
  authorization: string | undefined,
  secret: string,
  rawBody: Buffer,
  nowMs: number,
): WebhookCheck {
  if (!authorization) return { ok: false, reason: 'missing Authorization header' };
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!match?.[1]) return { ok: false, reason: 'Authorization is not a Bearer token' };
  let jwt: DecodedJwt;
  try {
    jwt = decodeJwt(match[1]);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (jwt.header.alg !== 'HS256')
    return { ok: false, reason: `JWT alg ${String(jwt.header.alg)} is not HS256` };
  const expected = createHmac('sha256', secret).update(jwt.signingInput).digest();
  if (jwt.signature.length !== expected.length || !timingSafeEqual(jwt.signature, expected)) {
    return { ok: false, reason: 'JWT signature does not match the signature secret' };
  }
  const iat = jwt.claims.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    return { ok: false, reason: 'JWT has no numeric iat' };
  const ageMs = nowMs - iat * 1000;
  if (Math.abs(ageMs) > WEBHOOK_MAX_AGE_MS) {
    const seconds = Math.round(Math.abs(ageMs) / 1000);
    const when = ageMs > 0 ? `${seconds} s old` : `${seconds} s in the future`;
    return { ok: false, reason: `JWT iat is ${when} (limit ${WEBHOOK_MAX_AGE_MS / 1000} s)` };
  }
  if (rawBody.length > 0) {
    const hash = jwt.claims.payload_hash;
    if (typeof hash !== 'string')
      return { ok: false, reason: 'JWT has no payload_hash for a request with a body' };
    const actual = Buffer.from(sha256Hex(rawBody), 'utf8');
    const claimed = Buffer.from(hash.toLowerCase(), 'utf8');
    if (claimed.length !== actual.length || !timingSafeEqual(claimed, actual)) {
      return { ok: false, reason: 'payload_hash does not match the body' };
    }
  }
  return { ok: true, claims: jwt.claims };
}

const keyCache = new Map<string, KeyObject>();

/** Parses the application's PEM private key (cached); throws a clear error when it is not one. */
export function privateKeyOf(pem: string): KeyObject {
  let key = keyCache.get(pem);
  if (key) return key;
  try {
    key = createPrivateKey(pem.includes('\\n') ? pem.replaceAll('\\n', '\n') : pem);
  } catch {
    throw new Error('privateKey is not a PEM private key (the one Vonage generated for the application)');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error('privateKey must be an RSA key');
  if (keyCache.size > 100) keyCache.clear();
  keyCache.set(pem, key);
  return key;
}

/** The RS256 JWT for one REST call to the Voice API. */
export function restJwt(applicationId: string, privateKeyPem: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const input = encode(
    { alg: 'RS256', typ: 'JWT' },
    { application_id: applicationId, iat, jti: randomUUID(), exp: iat + REST_JWT_LIFETIME_S },
  );
  return `${input}.${base64url(sign('sha256', Buffer.from(input), privateKeyOf(privateKeyPem)))}`;
}
