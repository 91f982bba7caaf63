/**
 * SIP messages (RFC 3261 §7): a parser that never throws (bad input gives a reason, and what
 * could be read so far, so a `400` can still be addressed) and a serializer. Hand-written rather
 * than the npm `sip` package (0.0.6, untyped JavaScript, last change 2022): Parley needs only a
 * user agent server's view of a message, a few hundred lines with strict types and bounds on
 * every size an outsider controls.
 */

/** Bounds on a message from outside (a UDP datagram is at most 64 KiB anyway). */
export const SIP_LIMITS = { maxMessageBytes: 65_535, maxHeaders: 120, maxHeaderBytes: 8192 } as const;

/** Compact header names (RFC 3261 §7.3.3 and extensions) to their full names, lower case. */
const COMPACT: Readonly<Record<string, string>> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
  u: 'allow-events',
};

export interface SipHeaders {
  /** Values of header `name` (lower case, compact names expanded), in message order. */
  all(name: string): readonly string[];
  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined;
}

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export type ParseResult =
  | { ok: true; message: SipMessage }
  /** `partial`: the request as far as it could be read (to address a 400), when its start line was one. */
  | { ok: false; error: string; partial?: SipRequest };

class HeaderList implements SipHeaders {
  readonly entries: [name: string, value: string][] = [];
  all(name: string): readonly string[] {
    const key = name.toLowerCase();
    return this.entries.filter(([n]) => n === key).map(([, v]) => v);
  }
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    return this.entries.find(([n]) => n === key)?.[1];
  }
}

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/** Parses one datagram (or one framed TCP message). Never throws. */
export function parseSipMessage(data: Buffer): ParseResult {
  if (data.length > SIP_LIMITS.maxMessageBytes) return { ok: false, error: 'message too large' };
  let headEnd = data.indexOf('\r\n\r\n');
  let sepLength = 4;
  if (headEnd < 0) {
    headEnd = data.indexOf('\n\n');
    sepLength = 2;
  }
  if (headEnd < 0) return { ok: false, error: 'no end of headers' };
  const head = data.subarray(0, headEnd).toString('latin1');
  const lines = head.split(/\r?\n/);
  // Leading empty lines are keep-alives (RFC 5626 CRLF); skip them.
  while (lines.length > 0 && lines[0] === '') lines.shift();
  const startLine = lines.shift() ?? '';
  const headers = new HeaderList();
  let body: Buffer = data.subarray(headEnd + sepLength);
  let start:
    | { kind: 'request'; method: string; uri: string }
    | { kind: 'response'; status: number; reason: string };
  const response = /^SIP\/2\.0 ([1-6][0-9]{2})(?: (.*))?$/.exec(startLine);
  const request = /^([^ ]+) ([^ ]+) SIP\/2\.0$/.exec(startLine);
  if (response) start = { kind: 'response', status: Number(response[1]), reason: response[2] ?? '' };
  else if (request?.[1] && request[2] && TOKEN.test(request[1]))
    start = { kind: 'request', method: request[1].toUpperCase(), uri: request[2] };
  else return { ok: false, error: `bad start line ${JSON.stringify(startLine.slice(0, 80))}` };

  const partial = (): SipRequest | undefined =>
    start.kind === 'request' ? { ...start, headers, body: Buffer.alloc(0) } : undefined;
  const fail = (error: string): ParseResult => {
    const p = partial();
    return p ? { ok: false, error, partial: p } : { ok: false, error };
  };

  for (const line of lines) {
    if (line.length > SIP_LIMITS.maxHeaderBytes) return fail('header line too long');
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = headers.entries.at(-1);
      if (!last) return fail('continuation line before any header');
      last[1] = `${last[1]} ${line.trim()}`;
      if (last[1].length > SIP_LIMITS.maxHeaderBytes) return fail('header too long');
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return fail(`malformed header line ${JSON.stringify(line.slice(0, 40))}`);
    const rawName = line.slice(0, colon).trim().toLowerCase();
    if (!TOKEN.test(rawName)) return fail(`malformed header name ${JSON.stringify(rawName.slice(0, 40))}`);
    if (headers.entries.length >= SIP_LIMITS.maxHeaders) return fail('too many headers');
    headers.entries.push([COMPACT[rawName] ?? rawName, line.slice(colon + 1).trim()]);
  }

  const lengthText = headers.get('content-length');
  if (lengthText !== undefined) {
    if (!/^\d{1,6}$/.test(lengthText)) return fail('bad Content-Length');
    const length = Number(lengthText);
    // RFC 3261 §18.3: a datagram shorter than its Content-Length is malformed; extra bytes are dropped.
    if (length > body.length) return fail('body shorter than Content-Length');
    body = body.subarray(0, length);
  }
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if (!headers.get(name)) return fail(`missing ${name} header`);
  }
  const cseq = parseCSeq(headers.get('cseq') ?? '');
  if (!cseq) return fail('bad CSeq');
  if (start.kind === 'request' && cseq.method !== start.method)
    return fail('CSeq method does not match the request');
  return { ok: true, message: { ...start, headers, body } };
}

export function parseCSeq(value: string): { seq: number; method: string } | undefined {
  const m = /^(\d{1,10})\s+([A-Za-z]+)$/.exec(value.trim());
  if (!m?.[1] || !m[2]) return undefined;
  const seq = Number(m[1]);
  return seq < 2 ** 31 ? { seq, method: m[2].toUpperCase() } : undefined;
}

/** A header parameter (`;tag=…`, `;branch=…`) of a name-addr or Via value, outside `<…>` and quotes. */
export function headerParam(value: string, name: string): string | undefined {
  const afterUri = value.lastIndexOf('>');
  const params = value.slice(afterUri + 1);
  for (const part of params.split(';').slice(1)) {
    const [k, v] = part.split('=', 2);
    if (k?.trim().toLowerCase() === name) return (v ?? '').trim();
  }
  return undefined;
}

/** The URI of a name-addr (`"Bob" <sip:bob@host>;tag=1`) or addr-spec (`sip:bob@host;tag=1`). */
export function uriOf(value: string): string {
  const open = value.indexOf('<');
  const close = value.indexOf('>', open + 1);
  if (open >= 0 && close > open) return value.slice(open + 1, close).trim();
  return (value.split(';')[0] ?? '').trim();
}

/** The user part of a `sip:`/`sips:`/`tel:` URI, percent-decoded; undefined when there is none. */
export function uriUser(uri: string): string | undefined {
  // A sip: URI has a user part only before an `@`; a tel: URI is all number.
  const m = /^sips?:([^@;?>]+)@/i.exec(uri.trim()) ?? /^tel:([^;?>]+)/i.exec(uri.trim());
  if (!m?.[1]) return undefined;
  const user = m[1].split(':')[0] ?? '';
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** The top Via's transaction id (`branch`) and sent-by. */
export function topVia(headers: SipHeaders): { branch?: string; sentBy: string } | undefined {
  const first = headers.get('via');
  if (!first) return undefined;
  const value = first.split(',')[0] ?? '';
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*[A-Za-z]+\s+([^;\s]+)/i.exec(value.trim());
  if (!m?.[1]) return undefined;
  const branch = headerParam(value, 'branch');
  return { sentBy: m[1], ...(branch ? { branch } : {}) };
}

export type HeaderLines = readonly (readonly [name: string, value: string])[];

function serialize(startLine: string, headers: HeaderLines, body: Buffer | string | undefined): Buffer {
  const content = typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? Buffer.alloc(0));
  const lines = [startLine, ...headers.map(([n, v]) => `${n}: ${v}`), `Content-Length: ${content.length}`];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), content]);
}

export function serializeRequest(
  method: string,
  uri: string,
  headers: HeaderLines,
  body?: Buffer | string,
): Buffer {
  return serialize(`${method} ${uri} SIP/2.0`, headers, body);
}

/**
 * A response to `request` (RFC 3261 §8.2.6): its Via, From, Call-ID and CSeq copied, its To with
 * `toTag` added when it has none (every response but 100), then `extra` headers and the body.
 */
export function responseTo(
  request: SipRequest,
  status: number,
  reason: string,
  options: { toTag?: string; extra?: HeaderLines; body?: Buffer | string } = {},
): Buffer {
  const headers: [string, string][] = request.headers.all('via').map((v) => ['Via', v]);
  const to = request.headers.get('to') ?? '';
  const tagged =
    options.toTag && status !== 100 && !headerParam(to, 'tag') ? `${to};tag=${options.toTag}` : to;
  headers.push(['From', request.headers.get('from') ?? '']);
  headers.push(['To', tagged]);
  headers.push(['Call-ID', request.headers.get('call-id') ?? '']);
  headers.push(['CSeq', request.headers.get('cseq') ?? '']);
  for (const [n, v] of options.extra ?? []) headers.push([n, v]);
  return serialize(`SIP/2.0 ${status} ${reason}`, headers, options.body);
}
