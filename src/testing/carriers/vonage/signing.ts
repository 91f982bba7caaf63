// What the Vonage simulator signs and checks: its webhooks carry `Authorization: Bearer <JWT>`
// signed HS256 with the signature secret (claims `iat, jti, iss, api_key, application_id,
// payload_hash`), as Vonage's signed webhooks do; every REST call must carry an RS256 JWT signed
// by the application's private key with `application_id`, `iat`, `jti`, `exp`, or gets 401.
import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID, verify } from 'node:crypto';
import { decodeJwt, sha256Hex, signHs256 } from '../../../transports/phone/vonage/jwt.js';

export type SignatureMode = 'valid' | 'bad' | 'stale';

/** How old a `stale` webhook's `iat` is (the limit is 5 minutes). */
export const STALE_AGE_S = 10 * 60;

export interface VonageKeys {
  applicationId: string;
  apiKey: string;
  privateKeyPem: string;
  publicKey: KeyObject;
  signatureSecret: string;
}

/** One RSA key pair per process: generating 2048-bit keys costs up to a second on a busy machine. */
let keyPair: { privateKeyPem: string; publicKey: KeyObject } | undefined;

/** A new application (id, api key, signature secret); `freshKey` also generates its own RSA key pair. */
export function generateVonageKeys(options: { freshKey?: boolean } = {}): VonageKeys {
  let pair = options.freshKey ? undefined : keyPair;
  if (!pair) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    pair = { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
    if (!options.freshKey) keyPair = pair;
  }
  return {
    applicationId: randomUUID(),
    apiKey: randomBytes(4).toString('hex'),
    privateKeyPem: pair.privateKeyPem,
    publicKey: pair.publicKey,
    signatureSecret: randomBytes(24).toString('base64url'),
  };
}

/** The `Authorization` header of a webhook with `body` (valid, signed with a wrong secret, or stale). */
export function webhookAuthorization(keys: VonageKeys, body: string, mode: SignatureMode = 'valid'): string {
  const nowS = Math.floor(Date.now() / 1000);
  const claims = {
    iat: mode === 'stale' ? nowS - STALE_AGE_S : nowS,
    jti: randomUUID(),
    iss: 'Vonage',
    api_key: keys.apiKey,
    application_id: keys.applicationId,
    ...(body ? { payload_hash: sha256Hex(body) } : {}),
  };
  const secret = mode === 'bad' ? `${keys.signatureSecret}-wrong` : keys.signatureSecret;
  return `Bearer ${signHs256(claims, secret)}`;
}

/** Checks a REST call's RS256 JWT; the reason when it is refused. */
export function restAuthProblem(keys: VonageKeys, authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return 'missing Bearer token';
  let jwt: ReturnType<typeof decodeJwt>;
  try {
    jwt = decodeJwt(match[1]);
  } catch (error) {
    return (error as Error).message;
  }
  if (jwt.header.alg !== 'RS256') return `alg ${String(jwt.header.alg)} is not RS256`;
  if (!verify('sha256', Buffer.from(jwt.signingInput), keys.publicKey, jwt.signature)) {
    return 'signature does not verify with the application public key';
  }
  const { application_id, iat, exp, jti } = jwt.claims;
  if (application_id !== keys.applicationId) return 'application_id is not this application';
  if (typeof jti !== 'string' || jti.length === 0) return 'no jti';
  const nowS = Date.now() / 1000;
  if (typeof iat !== 'number' || iat > nowS + 60) return 'iat missing or in the future';
  if (typeof exp !== 'number' || exp <= nowS) return 'expired';
  return undefined;
}
