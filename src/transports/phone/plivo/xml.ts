/**
 * Plivo XML documents Parley answers with (Plivo "XML reference": `<Stream>`, `<Speak>`,
 * `<Dial>` with `<Number>` or `<User>` for a SIP URI, `<Hangup>`). The stream is bidirectional
 * and keeps the call up while the socket is open (`keepCallAlive`); µ-law 8 kHz both ways.
 */
import type { TransferDestination } from '../../transport.js';

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';

/** Drops the characters XML 1.0 cannot carry (controls other than tab/LF/CR, lone surrogates, U+FFFE/F). */
function stripInvalidXmlChars(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const valid =
      c === 0x09 ||
      c === 0x0a ||
      c === 0x0d ||
      (c >= 0x20 && c <= 0xd7ff) ||
      (c >= 0xe000 && c <= 0xfffd) ||
      c >= 0x10000;
    if (valid) out += ch;
  }
  return out;
}

/** Escapes text and attribute values (and drops characters XML 1.0 cannot carry). */
export function escapeXml(text: string): string {
  return stripInvalidXmlChars(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `<Response><Stream …>mediaUrl</Stream></Response>`: opens the call's media WebSocket. */
export function streamXml(mediaUrl: string, statusUrl: string): string {
  return (
    `${XML_HEAD}<Response><Stream bidirectional="true" keepCallAlive="true" ` +
    `contentType="audio/x-mulaw;rate=8000" statusCallbackUrl="${escapeXml(statusUrl)}" ` +
    `statusCallbackMethod="POST">${escapeXml(mediaUrl)}</Stream></Response>`
  );
}

/** `<Dial>` to a number or a SIP URI: what a transfer's `aleg_url` and a forwarded refusal return. */
export function transferXml(to: TransferDestination): string {
  if (to.type === 'number') {
    const callerId = to.callerId ? ` callerId="${escapeXml(to.callerId)}"` : '';
    return `${XML_HEAD}<Response><Dial${callerId}><Number>${escapeXml(to.number)}</Number></Dial></Response>`;
  }
  return `${XML_HEAD}<Response><Dial><User>${escapeXml(to.sipUri)}</User></Dial></Response>`;
}

/** Says `text` and hangs up. */
export function speakAndHangUpXml(text: string): string {
  return `${XML_HEAD}<Response><Speak>${escapeXml(text)}</Speak><Hangup/></Response>`;
}

/** Checks a destination before it goes to Plivo: E.164, or a `sip:`/`sips:` URI. */
export function checkDestination(to: TransferDestination): string | undefined {
  if (to.type === 'number') {
    if (!/^\+[1-9][0-9]{6,14}$/.test(to.number)) return `not an E.164 number: ${to.number.slice(0, 40)}`;
    if (to.callerId !== undefined && !/^\+?[0-9]{3,16}$/.test(to.callerId))
      return `not a caller id: ${to.callerId.slice(0, 40)}`;
    return undefined;
  }
  if (!/^sips?:[^\s<>"]{3,256}$/i.test(to.sipUri)) return `not a SIP URI: ${to.sipUri.slice(0, 60)}`;
  return undefined;
}

/** The `transfer` query parameter of a transfer's `aleg_url`: the destination as base64url JSON. */
export function encodeTransferParam(to: TransferDestination): string {
  return Buffer.from(JSON.stringify(to), 'utf8').toString('base64url');
}

/** Reads a `transfer` query parameter back; undefined when malformed. */
export function decodeTransferParam(value: string): TransferDestination | undefined {
  if (value.length > 2048 || !/^[A-Za-z0-9_-]*$/.test(value)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const p = parsed as Record<string, unknown>;
  let to: TransferDestination;
  if (p.type === 'number' && typeof p.number === 'string') {
    to =
      typeof p.callerId === 'string'
        ? { type: 'number', number: p.number, callerId: p.callerId }
        : { type: 'number', number: p.number };
  } else if (p.type === 'sip' && typeof p.sipUri === 'string') to = { type: 'sip', sipUri: p.sipUri };
  else return undefined;
  return checkDestination(to) === undefined ? to : undefined;
}
