/**
 * How the Plivo simulator talks to Parley's HTTP side like Plivo does: form-encoded webhooks
 * signed with X-Plivo-Signature-V3 and its nonce (or badly signed, for the refusal tests), and
 * the few Plivo XML elements Parley answers with, read back.
 */
import { randomBytes } from 'node:crypto';
import { plivoV3Signature } from '../../../transports/phone/plivo/signature.js';

export type SignatureMode = 'valid' | 'bad' | 'stale';

/**
 * POSTs `params` form-encoded to `url`. `bad`: signed with the wrong auth token; `stale`: V3 has
 * no timestamp, so a replayed signature is modelled instead — signed with another nonce than the
 * one in the header.
 */
export async function postSigned(
  url: string,
  params: Record<string, string>,
  authToken: string,
  mode: SignatureMode = 'valid',
): Promise<{ status: number; body: string }> {
  const form = new URLSearchParams(params);
  const nonce = randomBytes(10).toString('hex');
  const signature =
    mode === 'bad'
      ? plivoV3Signature(`${authToken}x`, 'POST', url, nonce, form)
      : mode === 'stale'
        ? plivoV3Signature(authToken, 'POST', url, randomBytes(10).toString('hex'), form)
        : plivoV3Signature(authToken, 'POST', url, nonce, form);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-plivo-signature-v3': signature,
      'x-plivo-signature-v3-nonce': nonce,
      'user-agent': 'PlivoHTTP/1.0 (simulator)',
    },
    body: form.toString(),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
}

export function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function attributes(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of raw.matchAll(/([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*"([^"]*)"/g)) {
    const [, name, value] = match;
    if (name !== undefined && value !== undefined) out[name] = unescapeXml(value);
  }
  return out;
}

export type PlivoXml =
  | { kind: 'stream'; url: string; attributes: Record<string, string> }
  | { kind: 'dial'; number?: string; user?: string; attributes: Record<string, string> }
  | { kind: 'speak'; text: string; hangup: boolean }
  | { kind: 'other'; body: string };

/** What a Plivo XML answer asks the carrier to do (the first verb Parley uses). */
export function readPlivoXml(body: string): PlivoXml {
  if (!/<Response>[\s\S]*<\/Response>/.test(body)) return { kind: 'other', body };
  const stream = /<Stream\b([^>]*)>([^<]*)<\/Stream>/.exec(body);
  if (stream)
    return {
      kind: 'stream',
      url: unescapeXml((stream[2] ?? '').trim()),
      attributes: attributes(stream[1] ?? ''),
    };
  const dial = /<Dial\b([^>]*)>([\s\S]*?)<\/Dial>/.exec(body);
  if (dial) {
    const inner = dial[2] ?? '';
    const number = /<Number\b[^>]*>([^<]*)<\/Number>/.exec(inner)?.[1];
    const user = /<User\b[^>]*>([^<]*)<\/User>/.exec(inner)?.[1];
    return {
      kind: 'dial',
      ...(number !== undefined ? { number: unescapeXml(number) } : {}),
      ...(user !== undefined ? { user: unescapeXml(user) } : {}),
      attributes: attributes(dial[1] ?? ''),
    };
  }
  const speak = /<Speak\b[^>]*>([^<]*)<\/Speak>/.exec(body);
  if (speak) return { kind: 'speak', text: unescapeXml(speak[1] ?? ''), hangup: /<Hangup\s*\/>/.test(body) };
  return { kind: 'other', body };
}
