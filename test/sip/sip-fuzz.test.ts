// 400 malformed and odd SIP datagrams at the endpoint (truncated messages, huge and too many
// headers, wrong Content-Length, bad SDP, unknown and lower-case methods, stray responses, binary
// garbage, missing headers, CSeq mismatches, ACK/BYE/CANCEL for dialogs that do not exist): the
// process stays up, every 50 messages an OPTIONS is still answered 200, the parser never throws,
// and no dialog or RTP port is left behind.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PhoneNumberRecord } from '../../src/transports/phone/phone-ports.js';
import type { EntryPointDeps } from '../../src/transports/ports.js';
import { parseSipMessage } from '../../src/transports/sip/message.js';
import { parseOffer } from '../../src/transports/sip/sdp.js';
import { type SipEndpointHandle, startSipEndpoint } from '../../src/transports/sip/sip-entry-point.js';
import { StubAdmission, StubStatus } from '../phone/support/stub-ports.js';
import { newLeg, request, sdpOffer, UdpPeer } from './raw-uac.js';

const NUMBER = '+14155550500';
const record: PhoneNumberRecord = { id: 'num_f', teamId: 'team_f', number: NUMBER, provider: 'sip' };

let sip: SipEndpointHandle;
let peer: UdpPeer;
const warnings: string[] = [];

beforeAll(async () => {
  const base = 50_000 + 2 * Math.floor(Math.random() * 5000);
  sip = await startSipEndpoint(
    {
      admission: new StubAdmission(),
      phoneStatus: new StubStatus(),
      log: {
        warn: (_o: object, m: string) => warnings.push(m),
        error: (_o: object, m: string) => warnings.push(m),
      },
      phoneNumbers: { sipNumber: async (n: string) => (n === NUMBER ? record : undefined) },
    } as unknown as EntryPointDeps,
    { host: '127.0.0.1', port: 0, publicAddress: '127.0.0.1', rtpPorts: `${base}-${base + 20}` },
  );
  peer = await new UdpPeer().open();
});
afterAll(async () => {
  peer?.close();
  await sip?.close();
});

/** A deterministic generator (mulberry32), so a failure is reproducible. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(sipPort: number, mediaPort: number): Buffer[] {
  const rnd = random(15);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const invite = () =>
    request('INVITE', NUMBER, sipPort, newLeg(), peer, { body: sdpOffer(mediaPort, '18') });
  const badSdps = [
    'v=1\r\n',
    'v=0\r\nm=audio 99999 RTP/AVP 0\r\n',
    'v=0\r\nc=IN IP6 ::1\r\nm=audio 4000 RTP/AVP 0\r\n',
    'v=0\r\nm=audio x RTP/AVP 0\r\n',
    'v=0\r\nm=audio 4000 RTP/AVP\r\n',
    'v=0\r\nc=IN IP4 999.1.1.1\r\nm=audio 4000 RTP/AVP 0\r\n',
    'v=0\r\nm=video 4000 RTP/AVP 96\r\n',
    'v=0\r\nm=audio 0 RTP/AVP 0\r\n',
    'v=0\r\nm=audio 4000 RTP/AVP 0\r\n', // no c=
    'v=0\r\nnot sdp at all\r\n',
    `v=0\r\n${'a=x\r\n'.repeat(2000)}`,
    '\u0000\u0001\u0002',
  ];
  const out: Buffer[] = [];
  const add = (text: string) => out.push(Buffer.from(text, 'latin1'));
  for (let i = 0; i < 400; i++) {
    const kind = i % 16;
    const leg = newLeg();
    switch (kind) {
      case 0: {
        const full = invite();
        add(full.slice(0, Math.floor(rnd() * full.length)));
        break;
      }
      case 1:
        add(request('OPTIONS', NUMBER, sipPort, leg, peer, { extra: [`X-Huge: ${'a'.repeat(9000 + i)}`] }));
        break;
      case 2:
        add(
          request('OPTIONS', NUMBER, sipPort, leg, peer, {
            extra: Array.from({ length: 130 }, (_, k) => `X-H${k}: ${k}`),
          }),
        );
        break;
      case 3:
        add(
          invite().replace(
            /Content-Length: \d+/,
            `Content-Length: ${pick(['99999', '-1', 'abc', '5000', '1e3'])}`,
          ),
        );
        break;
      case 4:
        add(request('INVITE', NUMBER, sipPort, leg, peer, { body: pick(badSdps) }));
        break;
      case 5:
        add(
          request(
            pick(['FOO', 'REGISTER', 'SUBSCRIBE', 'PUBLISH', 'MESSAGE', 'UPDATE', 'PRACK']),
            NUMBER,
            sipPort,
            leg,
            peer,
          ),
        );
        break;
      case 6:
        add(request('INVITE', NUMBER, sipPort, leg, peer).replace(/^INVITE/, 'invite'));
        break;
      case 7:
        add(
          `SIP/2.0 ${pick(['200 OK', '180 Ringing', '487 Request Terminated', '999 Odd', '100'])}\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKstray${i}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: stray${i}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`,
        );
        break;
      case 8: {
        const bytes = Buffer.alloc(1 + Math.floor(rnd() * 1500));
        for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rnd() * 256);
        out.push(bytes);
        break;
      }
      case 9:
        add(
          request('OPTIONS', NUMBER, sipPort, leg, peer).replace(
            pick([/Via:[^\r]*\r\n/, /Call-ID:[^\r]*\r\n/, /CSeq:[^\r]*\r\n/, /From:[^\r]*\r\n/]),
            '',
          ),
        );
        break;
      case 10:
        add(
          request('OPTIONS', NUMBER, sipPort, leg, peer).replace(
            'CSeq: 1 OPTIONS',
            pick(['CSeq: 1 INVITE', 'CSeq: x OPTIONS', 'CSeq: 99999999999 OPTIONS', 'CSeq: 1']),
          ),
        );
        break;
      case 11:
        add(
          request(pick(['ACK', 'BYE', 'CANCEL', 'INFO']), NUMBER, sipPort, leg, peer, {
            to: `<sip:${NUMBER}@x>;tag=ghost${i}`,
          }),
        );
        break;
      case 12:
        add(
          pick([
            '',
            '\r\n\r\n',
            '\r\n',
            'SIP/2.0\r\n\r\n',
            'INVITE\r\n\r\n',
            ' INVITE sip:x SIP/2.0\r\n\r\n',
            'INVITE sip:x SIP/3.0\r\n\r\n',
          ]),
        );
        break;
      case 13:
        add(
          request('OPTIONS', NUMBER, sipPort, leg, peer).replace(
            'Via: SIP/2.0/UDP',
            pick(['Via: garbage', 'Via: SIP/2.0/UDP', 'Via:', 'Via: SIP/2.0/UDP ;branch=']),
          ),
        );
        break;
      case 14:
        add(
          request('OPTIONS', NUMBER, sipPort, leg, peer).replace(
            '\r\nMax-Forwards',
            `\r\n${pick([' folded', ':novalue', 'Bad Header', '\tcontinued'])}\r\nMax-Forwards`,
          ),
        );
        break;
      default:
        add(
          request(
            'INVITE',
            pick(['', '%zz', 'abc', '+1', '+123456789012345678', NUMBER.slice(1)]),
            sipPort,
            leg,
            peer,
            { body: sdpOffer(mediaPort, '18') },
          ),
        );
    }
  }
  return out;
}

it('survives 400 malformed or odd messages and keeps answering OPTIONS', async () => {
  const sipPort = sip.endpoint.localPort;
  const messages = corpus(sipPort, peer.port);
  expect(messages.length).toBeGreaterThanOrEqual(300);
  // The parsers never throw, whatever they are given.
  for (const m of messages) {
    expect(() => parseSipMessage(m)).not.toThrow();
    expect(() => parseOffer(m.toString('latin1'))).not.toThrow();
  }
  for (let i = 0; i < messages.length; i++) {
    peer.send(messages[i] as Buffer, sipPort);
    if (i % 50 === 49) {
      const leg = newLeg();
      peer.send(request('OPTIONS', NUMBER, sipPort, leg, peer), sipPort);
      const ok = await peer.next((data) => {
        const parsed = parseSipMessage(data);
        return parsed.ok &&
          parsed.message.kind === 'response' &&
          parsed.message.headers.get('call-id') === leg.callId
          ? parsed.message
          : undefined;
      });
      expect(ok.kind === 'response' && ok.status).toBe(200);
      peer.drain();
    }
  }
  expect(sip.endpoint.stats.malformed).toBeGreaterThan(50);
  expect(sip.endpoint.stats.limited).toBe(0);
  await expect.poll(() => sip.calls.liveDialogs).toBe(0);
  expect(sip.rtpPorts.inUse).toBe(0);
  // A bug caught by the socket's guard would show here.
  expect(warnings.filter((w) => w.includes('could not be handled'))).toEqual([]);
}, 60_000);
