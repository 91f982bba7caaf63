// The SIP parser and serializer, and the SDP offer/answer, on messages as RFC 3261 and RFC 4566
// write them (compact headers, folded lines, tags, odd URIs).
import { describe, expect, it } from 'vitest';
import {
  headerParam,
  parseSipMessage,
  responseTo,
  topVia,
  uriOf,
  uriUser,
} from '../../src/transports/sip/message.js';
import { buildAnswer, parseOffer } from '../../src/transports/sip/sdp.js';
import { numberOfUser } from '../../src/transports/sip/sip-entry-point.js';

const INVITE = [
  'INVITE sip:+14155550100@parley.example;user=phone SIP/2.0',
  'v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport',
  'Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKproxy',
  'f: "Alice" <sip:+15005550100@10.0.0.1>;tag=1928301774',
  't: <sip:+14155550100@parley.example>',
  'i: a84b4c76e66710@pc33',
  'CSeq: 314159 INVITE',
  'Subject: a long',
  '  folded subject',
  'm: <sip:alice@10.0.0.1>',
  'c: application/sdp',
  'l: 4',
  '',
  'v=0\r\nextra bytes beyond the length',
].join('\r\n');

describe('SIP messages', () => {
  it('reads compact and folded headers, and the body by Content-Length', () => {
    const parsed = parseSipMessage(Buffer.from(INVITE));
    if (!parsed.ok || parsed.message.kind !== 'request') throw new Error(JSON.stringify(parsed));
    const m = parsed.message;
    expect(m.method).toBe('INVITE');
    expect(m.headers.all('via')).toHaveLength(2);
    expect(m.headers.get('subject')).toBe('a long folded subject');
    expect(m.body.toString()).toBe('v=0\r');
    expect(topVia(m.headers)).toEqual({ branch: 'z9hG4bK776asdhds', sentBy: '10.0.0.1:5060' });
    expect(headerParam(m.headers.get('from') ?? '', 'tag')).toBe('1928301774');
    expect(uriUser(m.uri)).toBe('+14155550100');
    expect(uriOf(m.headers.get('contact') ?? '')).toBe('sip:alice@10.0.0.1');
  });

  it('answers with Via, From, Call-ID and CSeq copied and a To tag added', () => {
    const parsed = parseSipMessage(Buffer.from(INVITE));
    if (!parsed.ok || parsed.message.kind !== 'request') throw new Error('parse');
    const text = responseTo(parsed.message, 180, 'Ringing', { toTag: 'abc' }).toString();
    expect(text.split('\r\n').slice(0, 7)).toEqual([
      'SIP/2.0 180 Ringing',
      'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport',
      'Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKproxy',
      'From: "Alice" <sip:+15005550100@10.0.0.1>;tag=1928301774',
      'To: <sip:+14155550100@parley.example>;tag=abc',
      'Call-ID: a84b4c76e66710@pc33',
      'CSeq: 314159 INVITE',
    ]);
    expect(text.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });

  it.each([
    ['no blank line', 'OPTIONS sip:x SIP/2.0\r\nVia: x'],
    ['a short body', INVITE.replace('l: 4', 'l: 400')],
    ['a CSeq for another method', INVITE.replace('314159 INVITE', '314159 BYE')],
    ['no Call-ID', INVITE.replace('i: a84b4c76e66710@pc33\r\n', '')],
    ['a bad start line', INVITE.replace('SIP/2.0\r\n', 'SIP/1.0\r\n')],
  ])('refuses %s with a reason', (_what, text) => {
    const parsed = parseSipMessage(Buffer.from(text));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.length).toBeGreaterThan(3);
  });

  it('reads the Request-URI user part as E.164', () => {
    expect(numberOfUser('+14155550100')).toBe('+14155550100');
    expect(numberOfUser('14155550100')).toBe('+14155550100');
    expect(numberOfUser('+1 (415) 555-0100')).toBe('+14155550100');
    expect(numberOfUser('alice')).toBeUndefined();
    expect(uriUser('sip:%2B14155550100@h')).toBe('+14155550100');
    expect(uriUser('sip:h.example')).toBeUndefined();
  });
});

describe('SDP', () => {
  const offer = [
    'v=0',
    'o=- 1 1 IN IP4 192.0.2.1',
    's=-',
    'c=IN IP4 192.0.2.1',
    't=0 0',
    'm=audio 49170 RTP/AVP 9 8 0 96',
    'c=IN IP4 192.0.2.2',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:96 telephone-event/8000',
    '',
  ].join('\r\n');

  it("takes the caller's first G.711 codec, its media address and telephone-event", () => {
    expect(parseOffer(offer)).toEqual({
      ok: true,
      offer: { address: '192.0.2.2', port: 49170, codec: 'PCMA', payloadType: 8, dtmfPayloadType: 96 },
    });
  });

  it('answers with the chosen codec, telephone-event and ptime 20', () => {
    const result = parseOffer(offer);
    if (!result.ok) throw new Error(result.error);
    const answer = buildAnswer(result.offer, { address: '203.0.113.5', port: 10002, sessionId: 7 });
    expect(answer).toContain('c=IN IP4 203.0.113.5');
    expect(answer).toContain('m=audio 10002 RTP/AVP 8 96');
    expect(answer).toContain('a=rtpmap:8 PCMA/8000');
    expect(answer).toContain('a=rtpmap:96 telephone-event/8000');
    expect(answer).toContain('a=ptime:20');
  });
});
