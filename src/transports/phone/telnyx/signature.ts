/**
 * Telnyx webhook signatures (developers.telnyx.com "Webhook signing"; telnyx SDK
 * `webhooks.constructEvent`): header `telnyx-signature-ed25519` is the base64 Ed25519 signature
 * (64 bytes) of `${telnyx-timestamp}|${raw body}`, made with the account's key pair; Parley checks
 * it with the account's public key (base64, 32 bytes, from the portal) and refuses timestamps
 * more than 300 s old or ahead. Built on node:crypto: the raw key becomes a JWK
 * `{kty:'OKP', crv:'Ed25519', x}` and `crypto.verify(null, …)` does the rest.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { Verification } from '../carrier.js';

/** Telnyx's own tolerance for `telnyx-timestamp` (both ways). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_SIZE = 256;

/** Decodes base64 or base64url strictly (Node's decoder skips junk silently). */
function decodeBase64(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** The account's public key as a KeyObject; throws with a clear message when it is not one. */
export function telnyxPublicKey(publicKey: string): KeyObject {
  const cached = keyCache.get(publicKey);
  if (cached) return cached;
  const raw = decodeBase64(publicKey);
  if (raw?.length !== 32) throw new Error('publicKey is not a base64 Ed25519 public key (32 bytes)');
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear();
  keyCache.set(publicKey, key);
  return key;
}

export interface TelnyxSignatureInput {
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  publicKey: string | undefined;
  nowMs: number;
}

export function verifyTelnyxSignature(input: TelnyxSignatureInput): Verification {
  const { signature, timestamp, publicKey } = input;
  if (!publicKey) return { ok: false, reason: 'the number has no Telnyx publicKey to check signatures with' };
  if (!signature) return { ok: false, reason: 'missing telnyx-signature-ed25519 header' };
  if (!timestamp) return { ok: false, reason: 'missing telnyx-timestamp header' };
  if (!/^[0-9]{1,12}$/.test(timestamp))
    return { ok: false, reason: 'malformed telnyx-timestamp (not Unix seconds)' };
  const skew = Math.round(input.nowMs / 1000 - Number(timestamp));
  if (skew > SIGNATURE_TOLERANCE_SECONDS)
    return {
      ok: false,
      reason: `stale telnyx-timestamp: ${skew} s old (limit ${SIGNATURE_TOLERANCE_SECONDS} s)`,
    };
  if (skew < -SIGNATURE_TOLERANCE_SECONDS)
    return {
      ok: false,
      reason: `telnyx-timestamp ${-skew} s in the future (limit ${SIGNATURE_TOLERANCE_SECONDS} s)`,
    };
  const bytes = decodeBase64(signature);
  if (bytes?.length !== 64)
    return { ok: false, reason: 'malformed telnyx-signature-ed25519 (not 64 bytes of base64)' };
  let key: KeyObject;
  try {
    key = telnyxPublicKey(publicKey);
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const message = Buffer.concat([Buffer.from(`${timestamp}|`, 'utf8'), input.rawBody]);
  return verify(null, message, key, bytes)
    ? { ok: true }
    : { ok: false, reason: 'telnyx-signature-ed25519 does not match the body and timestamp' };
}
