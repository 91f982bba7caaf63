/**
 * Plivo's webhook signature V3, as plivo-node `lib/utils/v3Security.js` computes it:
 * `base64(HMAC-SHA256(authToken, base + "." + nonce))`, headers `X-Plivo-Signature-V3` (one
 * signature, or several separated by commas: any may match) and `X-Plivo-Signature-V3-Nonce`.
 * `base` is `scheme://host[:port]/path`, then
 * - GET (and WebSocket upgrades): `?` + the query, decoded, as `k=v` pairs sorted by key then value,
 *   joined by `&` (nothing when the query is empty);
 * - POST with form parameters: `?` + that sorted query (even when empty), `.` when the query is not
 *   empty, then every POST parameter as `k` + `v` (no separators), sorted by key then value;
 * - POST without parameters: as GET.
 * Sorting is JavaScript's default (UTF-16 code units), like the SDK's `Array.prototype.sort`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

type Params = Map<string, string[]>;

function addAll(into: Params, from: URLSearchParams): void {
  for (const [key, value] of from) {
    const list = into.get(key);
    if (list) list.push(value);
    else into.set(key, [value]);
  }
}

function sortedKeys(params: Params): string[] {
  return [...params.keys()].sort();
}

function sortedQuery(params: Params): string {
  const parts: string[] = [];
  for (const key of sortedKeys(params)) {
    for (const value of [...(params.get(key) ?? [])].sort()) parts.push(`${key}=${value}`);
  }
  return parts.join('&');
}

function sortedPostParams(params: Params): string {
  let out = '';
  for (const key of sortedKeys(params)) {
    for (const value of [...(params.get(key) ?? [])].sort()) out += key + value;
  }
  return out;
}

/** `scheme://authority/path` and the raw query of an absolute URL, without normalising it. */
function splitUrl(url: string): { base: string; query: string } {
  const noFragment = url.split('#', 1)[0] ?? '';
  const q = noFragment.indexOf('?');
  const base = q < 0 ? noFragment : noFragment.slice(0, q);
  const query = q < 0 ? '' : noFragment.slice(q + 1);
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.test(base))
    throw new Error(`not an absolute URL: ${url.slice(0, 80)}`);
  return { base, query };
}

/** The string Plivo signs (before `.nonce`), for `method` over `url` with form `postParams`. */
export function plivoV3BaseString(
  method: string,
  url: string,
  postParams: URLSearchParams = new URLSearchParams(),
): string {
  const { base, query } = splitUrl(url);
  const queryParams: Params = new Map();
  addAll(queryParams, new URLSearchParams(query));
  const sortedQ = sortedQuery(queryParams);
  const post: Params = new Map();
  if (method.toUpperCase() === 'POST') addAll(post, postParams);
  if (post.size === 0) return sortedQ.length > 0 ? `${base}?${sortedQ}` : base;
  return `${base}?${sortedQ}${sortedQ.length > 0 ? '.' : ''}${sortedPostParams(post)}`;
}

/** The V3 signature Plivo sends for this request. */
export function plivoV3Signature(
  authToken: string,
  method: string,
  url: string,
  nonce: string,
  postParams?: URLSearchParams,
): string {
  return createHmac('sha256', authToken)
    .update(`${plivoV3BaseString(method, url, postParams)}.${nonce}`, 'utf8')
    .digest('base64');
}

function sameBase64(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given.trim(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export type V3Check = { ok: true } | { ok: false; reason: string };

/** Checks `X-Plivo-Signature-V3` (comma-separated list: any match) against the request. */
export function verifyPlivoV3(options: {
  authToken: string;
  method: string;
  /** The public URL Plivo called (never built from the Host header). */
  url: string;
  signatureHeader: string | undefined;
  nonceHeader: string | undefined;
  postParams?: URLSearchParams;
}): V3Check {
  const { signatureHeader, nonceHeader } = options;
  if (!signatureHeader) return { ok: false, reason: 'missing X-Plivo-Signature-V3' };
  if (!nonceHeader) return { ok: false, reason: 'missing X-Plivo-Signature-V3-Nonce' };
  if (!options.authToken) return { ok: false, reason: 'no authToken for this number' };
  let expected: string;
  try {
    expected = plivoV3Signature(
      options.authToken,
      options.method,
      options.url,
      nonceHeader,
      options.postParams,
    );
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const given = signatureHeader.split(',').slice(0, 16);
  // Every candidate is compared (no early exit) so the time taken does not say which one matched.
  let matched = false;
  for (const candidate of given) if (sameBase64(expected, candidate)) matched = true;
  return matched ? { ok: true } : { ok: false, reason: 'X-Plivo-Signature-V3 does not match' };
}
