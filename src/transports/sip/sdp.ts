/**
 * The SDP Parley needs (RFC 4566, offer/answer RFC 3264): the caller's audio address, its codecs
 * in order of preference and its telephone-event payload type; and the answer. Only G.711 µ-law
 * (PCMU) and A-law (PCMA) at 8 kHz, 20-ms packets, RFC 4733 digits. Hand-written (a few dozen
 * lines) so a malformed offer gives a reason instead of an exception.
 */

export type G711 = 'PCMU' | 'PCMA';

export interface AudioOffer {
  /** Where the caller wants RTP (the media-level `c=`, else the session's). */
  address: string;
  port: number;
  /** The codec chosen: the first G.711 one of the caller's list. */
  codec: G711;
  payloadType: number;
  /** RFC 4733 telephone-event payload type, when offered at 8 kHz. */
  dtmfPayloadType?: number;
}

export type OfferResult = { ok: true; offer: AudioOffer } | { ok: false; status: 400 | 488; error: string };

const STATIC: Readonly<Record<number, G711>> = { 0: 'PCMU', 8: 'PCMA' };

/** Reads an SDP offer. Never throws. */
export function parseOffer(text: string): OfferResult {
  if (text.length === 0) return { ok: false, status: 488, error: 'an SDP offer is required' };
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (!lines[0]?.startsWith('v=0')) return { ok: false, status: 400, error: 'SDP does not start with v=0' };
  let sessionAddress: string | undefined;
  let media: { port: number; proto: string; formats: number[]; address?: string } | undefined;
  let inAudio = false;
  const rtpmap = new Map<number, string>();
  let sawAudio = false;
  for (const line of lines) {
    if (line[1] !== '=')
      return { ok: false, status: 400, error: `malformed SDP line ${JSON.stringify(line.slice(0, 40))}` };
    const type = line[0];
    const value = line.slice(2).trim();
    if (type === 'm') {
      inAudio = false;
      const m = /^(\w+) (\d{1,5})(?:\/\d+)? ([\w/]+)((?: \d{1,3})*)$/.exec(value);
      if (!m?.[1] || !m[2] || !m[3]) return { ok: false, status: 400, error: 'malformed m= line' };
      if (m[1] !== 'audio' || media) continue;
      sawAudio = true;
      const port = Number(m[2]);
      if (port === 0 || port > 65535) continue;
      inAudio = true;
      media = {
        port,
        proto: m[3],
        formats: (m[4] ?? '').trim().split(' ').filter(Boolean).map(Number),
      };
    } else if (type === 'c') {
      const c = /^IN IP4 ([0-9.]+)(?:\/\d+)*$/.exec(value);
      if (!c?.[1] || !isIpv4(c[1]))
        return { ok: false, status: 488, error: 'only IN IP4 addresses are supported' };
      if (inAudio && media) media.address = c[1];
      else if (!media) sessionAddress = c[1];
    } else if (type === 'a' && inAudio) {
      const a = /^rtpmap:(\d{1,3}) ([\w.-]+)\/(\d+)/.exec(value);
      if (a?.[1] && a[2] && a[3]) rtpmap.set(Number(a[1]), `${a[2].toLowerCase()}/${a[3]}`);
    }
  }
  if (!media)
    return {
      ok: false,
      status: 488,
      error: sawAudio ? 'the audio stream is disabled' : 'no audio stream offered',
    };
  if (media.proto !== 'RTP/AVP')
    return { ok: false, status: 488, error: `${media.proto} is not supported (RTP/AVP only)` };
  const address = media.address ?? sessionAddress;
  if (!address) return { ok: false, status: 400, error: 'no connection address (c=)' };
  let chosen: { codec: G711; pt: number } | undefined;
  let dtmf: number | undefined;
  for (const pt of media.formats) {
    const name = rtpmap.get(pt) ?? (STATIC[pt] ? `${STATIC[pt].toLowerCase()}/8000` : undefined);
    if (!chosen && (name === 'pcmu/8000' || name === 'pcma/8000'))
      chosen = { codec: name === 'pcmu/8000' ? 'PCMU' : 'PCMA', pt };
    if (dtmf === undefined && name === 'telephone-event/8000') dtmf = pt;
  }
  if (!chosen) return { ok: false, status: 488, error: 'no common codec (PCMU or PCMA at 8 kHz)' };
  return {
    ok: true,
    offer: {
      address,
      port: media.port,
      codec: chosen.codec,
      payloadType: chosen.pt,
      ...(dtmf !== undefined ? { dtmfPayloadType: dtmf } : {}),
    },
  };
}

function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** The answer: Parley's address and port, the chosen codec, telephone-event when offered. */
export function buildAnswer(
  offer: AudioOffer,
  local: { address: string; port: number; sessionId: number },
): string {
  const formats = [
    offer.payloadType,
    ...(offer.dtmfPayloadType !== undefined ? [offer.dtmfPayloadType] : []),
  ];
  const lines = [
    'v=0',
    `o=parley ${local.sessionId} ${local.sessionId} IN IP4 ${local.address}`,
    's=Parley',
    `c=IN IP4 ${local.address}`,
    't=0 0',
    `m=audio ${local.port} RTP/AVP ${formats.join(' ')}`,
    `a=rtpmap:${offer.payloadType} ${offer.codec}/8000`,
  ];
  if (offer.dtmfPayloadType !== undefined)
    lines.push(
      `a=rtpmap:${offer.dtmfPayloadType} telephone-event/8000`,
      `a=fmtp:${offer.dtmfPayloadType} 0-16`,
    );
  lines.push('a=ptime:20', 'a=sendrecv');
  return `${lines.join('\r\n')}\r\n`;
}
