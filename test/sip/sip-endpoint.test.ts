// The SIP endpoint on its own (stub admission and status ports) driven over raw UDP, so the bytes
// are checked: the answer and its SDP, the 200 retransmitted until the ACK, RTP both ways (G.711,
// sequence gaps as silence, symmetric RTP), RFC 4733 and SIP INFO digits, marks resolved on
// Parley's own send clock (never for audio a clear dropped), BYE both ways, CANCEL while the call
// is admitted, and the error answers (404, 488, 400, 420, 405, 481). Ports and dialogs are freed.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mulawEncode } from '../../src/audio/g711.js';
import type { PhoneNumberRecord } from '../../src/transports/phone/phone-ports.js';
import type { EntryPointDeps } from '../../src/transports/ports.js';
import { type SipEndpointHandle, startSipEndpoint } from '../../src/transports/sip/sip-entry-point.js';
import { PLAYOUT_DELAY_MS } from '../../src/transports/sip/sip-transport.js';
import type { TransportClose } from '../../src/transports/transport.js';
import { StubAdmission, StubStatus } from '../phone/support/stub-ports.js';
import { type Leg, newLeg, request, rtpPacket, sdpOffer, UdpPeer } from './raw-uac.js';

const NUMBER = '+14155550400';
const record: PhoneNumberRecord = { id: 'num_1', teamId: 'team_1', number: NUMBER, provider: 'sip' };

/** SIP Timer H (and B, F, J) here, instead of 32 s. */
const TIMER_H_MS = 3000;
let sip: SipEndpointHandle;
let admission: StubAdmission;
let status: StubStatus;
let admitDelayMs = 0;
let peer: UdpPeer;
let media: UdpPeer;

beforeAll(async () => {
  admission = new StubAdmission();
  status = new StubStatus();
  const admit = admission.admit.bind(admission);
  admission.admit = async (req) => {
    if (admitDelayMs) await new Promise((r) => setTimeout(r, admitDelayMs));
    return admit(req);
  };
  const base = 40_000 + 2 * Math.floor(Math.random() * 5000);
  sip = await startSipEndpoint(
    {
      admission,
      phoneStatus: status,
      log: { warn: () => {}, error: () => {} },
      phoneNumbers: { sipNumber: async (n: string) => (n === NUMBER ? record : undefined) },
    } as unknown as EntryPointDeps,
    {
      host: '127.0.0.1',
      port: 0,
      publicAddress: '127.0.0.1',
      rtpPorts: `${base}-${base + 20}`,
      transactionTimeoutMs: TIMER_H_MS,
    },
  );
  peer = await new UdpPeer().open();
  media = await new UdpPeer().open();
});
afterAll(async () => {
  peer?.close();
  media?.close();
  await sip?.close();
});
beforeEach(() => {
  admitDelayMs = 0;
  peer.drain();
  media.drain();
});

const port = () => sip.endpoint.localPort;
const send = (text: string) => peer.send(text, port());

/** INVITE → 100 → 180 → 200; returns the leg (To with Parley's tag) and Parley's RTP port. */
async function answeredCall(formats = '0 101') {
  const leg = newLeg();
  send(request('INVITE', NUMBER, port(), leg, peer, { body: sdpOffer(media.port, formats) }));
  await peer.sip('100');
  await peer.sip('180');
  const ok = await peer.sip('200');
  leg.to = ok.headers.get('to') ?? '';
  const sdp = ok.body.toString();
  const rtpPort = Number(/m=audio (\d+) RTP\/AVP/.exec(sdp)?.[1]);
  return { leg, sdp, rtpPort };
}

function ack(leg: Leg) {
  send(request('ACK', NUMBER, port(), { ...leg, branch: newLeg().branch }, peer, { to: leg.to }));
}

function attached() {
  const rows = [...admission.calls.values()];
  return rows.at(-1);
}

describe('SIP endpoint over raw UDP', () => {
  it('answers with SDP, retransmits the 200 until the ACK, and carries a whole call', async () => {
    const { leg, sdp, rtpPort } = await answeredCall();
    expect(sdp).toContain('m=audio');
    expect(sdp).toContain('a=rtpmap:0 PCMU/8000');
    expect(sdp).toContain('a=rtpmap:101 telephone-event/8000');
    expect(sdp).toContain('c=IN IP4 127.0.0.1');
    // Timer G: the 200 comes again while no ACK arrives.
    await peer.sip('200', 2000);
    ack(leg);
    await expect.poll(() => attached()?.transport).toBeDefined();
    const row = attached();
    const transport = row?.transport;
    if (!transport) throw new Error('no transport');
    expect(row?.request).toMatchObject({ channel: 'sip', direction: 'inbound', carrierCallId: leg.callId });
    expect(row?.request.customer.number).toBe('+15005550999');

    const audio: Int16Array[] = [];
    const digits: string[] = [];
    const marks: string[] = [];
    const closes: TransportClose[] = [];
    let hello: unknown;
    transport.start({
      onHello: (h) => {
        hello = h;
      },
      onAudio: (f) => audio.push(f),
      onUserText: () => {},
      onDtmf: (d) => digits.push(d),
      onMark: (id) => marks.push(id),
      onSay: () => {},
      onEnd: () => {},
      onClose: (c) => closes.push(c),
    });
    expect(hello).toEqual({ sampleRate: 8000, frameMs: 20, audioOutput: true, marks: true });

    // Caller audio: seq 10, 11, then 14 (two packets lost → two frames of silence).
    const tone = mulawEncode(new Int16Array(160).fill(3000));
    for (const seq of [10, 11, 14]) media.send(rtpPacket(seq, seq * 160, Buffer.from(tone)), rtpPort);
    media.send(rtpPacket(11, 11 * 160, Buffer.from(tone)), rtpPort); // late duplicate: dropped
    await expect.poll(() => audio.length).toBe(5);
    expect(audio.every((f) => f.length === 160)).toBe(true);
    expect(Math.abs(audio[0]?.[0] ?? 0)).toBeGreaterThan(2000);
    expect(audio[2]?.every((v) => v === 0)).toBe(true);

    // RFC 4733: start, update and three end packets of one event are one digit.
    const event = (end: boolean, duration: number) =>
      Buffer.from([5, end ? 0x8a : 0x0a, duration >> 8, duration & 0xff]);
    media.send(rtpPacket(15, 5000, event(false, 160), 101, true), rtpPort);
    media.send(rtpPacket(16, 5000, event(false, 320), 101), rtpPort);
    for (const seq of [17, 18, 19]) media.send(rtpPacket(seq, 5000, event(true, 480), 101), rtpPort);
    // SIP INFO digits too.
    send(
      request('INFO', NUMBER, port(), { ...leg, branch: newLeg().branch }, peer, {
        cseq: 2,
        to: leg.to,
        body: 'Signal=#\r\nDuration=160\r\n',
        contentType: 'application/dtmf-relay',
      }),
    );
    await peer.sip('200');
    await expect.poll(() => digits.join('')).toBe('5#');

    // Parley's audio: PCMU packets of 160 bytes, consecutive, to where the caller's RTP came from.
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) transport.sendAudio(new Int16Array(160).fill(1000));
    transport.sendMark('m1');
    const packets = [];
    for (let i = 0; i < 5; i++) packets.push(await media.rtp());
    expect(packets.map((p) => p.payloadType)).toEqual([0, 0, 0, 0, 0]);
    expect(packets.every((p) => p.payload.length === 160)).toBe(true);
    expect(packets[0]?.marker).toBe(true);
    for (let i = 1; i < 5; i++) {
      expect(((packets[i]?.seq ?? 0) - (packets[i - 1]?.seq ?? 0) + 0x10000) % 0x10000).toBe(1);
      expect((packets[i]?.timestamp ?? 0) - (packets[i - 1]?.timestamp ?? 0)).toBe(160);
    }
    await expect.poll(() => marks).toEqual(['m1']);
    // 100 ms of audio sent at once plays for 100 ms, then the far end's jitter buffer.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100 + PLAYOUT_DELAY_MS - 5);

    // A clear drops the pending mark: it is never acked, later ones are.
    for (let i = 0; i < 5; i++) transport.sendAudio(new Int16Array(160));
    transport.sendMark('dropped');
    transport.clear();
    for (let i = 0; i < 10; i++) transport.sendAudio(new Int16Array(160));
    transport.sendMark('m2');
    await expect.poll(() => marks).toEqual(['m1', 'm2']);

    // The engine hangs up: BYE to the caller, answered, the dialog and the port are freed.
    const hangUp = transport.hangUp({ cause: 'completed', reason: 'Assistant ended the call' });
    const bye = await peer.sip('BYE');
    expect(bye.kind === 'request' && bye.headers.get('call-id')).toBe(leg.callId);
    if (bye.kind !== 'request') throw new Error('not a request');
    peer.send(
      [
        'SIP/2.0 200 OK',
        ...bye.headers.all('via').map((v) => `Via: ${v}`),
        `From: ${bye.headers.get('from')}`,
        `To: ${bye.headers.get('to')}`,
        `Call-ID: ${bye.headers.get('call-id')}`,
        `CSeq: ${bye.headers.get('cseq')}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      port(),
    );
    expect(await hangUp).toEqual({ ok: true });
    expect(closes).toEqual([
      { reason: 'Assistant ended the call', initiator: 'server', protocolError: false },
    ]);
    expect(sip.calls.liveDialogs).toBe(0);
    expect(sip.rtpPorts.inUse).toBe(0);
  }, 30_000);

  it('a BYE from the caller ends the call as a hang-up and frees the port', async () => {
    const { leg } = await answeredCall();
    ack(leg);
    await expect.poll(() => attached()?.transport).toBeDefined();
    const closes: TransportClose[] = [];
    attached()?.transport?.start({
      onHello: () => {},
      onAudio: () => {},
      onUserText: () => {},
      onMark: () => {},
      onSay: () => {},
      onEnd: () => {},
      onClose: (c) => closes.push(c),
    });
    send(request('BYE', NUMBER, port(), { ...leg, branch: newLeg().branch }, peer, { cseq: 2, to: leg.to }));
    await peer.sip('200');
    expect(closes).toEqual([{ reason: 'caller hung up', initiator: 'client', protocolError: false }]);
    expect(sip.calls.liveDialogs).toBe(0);
    expect(sip.rtpPorts.inUse).toBe(0);
  });

  it('no ACK: the 200 is retransmitted, then after Timer H a BYE and the call released', async () => {
    const { leg } = await answeredCall();
    const row = attached();
    await peer.sip('200', TIMER_H_MS);
    const bye = await peer.sip('BYE', TIMER_H_MS + 1000);
    expect(bye.headers.get('call-id')).toBe(leg.callId);
    await expect.poll(() => row?.released).toBe('no ACK for the 200 OK (SIP Timer H)');
    expect(row?.transport).toBeUndefined();
    expect(sip.calls.liveDialogs).toBe(0);
    expect(sip.rtpPorts.inUse).toBe(0);
  }, 15_000);

  it('CANCEL while the call is admitted: 200, 487, the call reported canceled', async () => {
    admitDelayMs = 300;
    const leg = newLeg();
    const invite = request('INVITE', NUMBER, port(), leg, peer, { body: sdpOffer(media.port) });
    send(invite);
    await peer.sip('180');
    send(request('CANCEL', NUMBER, port(), leg, peer, {}).replace(/\r\nContact:[^\r]*/, ''));
    await peer.sip('200');
    await peer.sip('487');
    await expect.poll(() => status.reports.at(-1)).toMatchObject({ status: 'canceled', sipCode: 487 });
    // A retransmitted INVITE gets the 487 again, not a new call.
    send(invite);
    await peer.sip('487');
    await expect.poll(() => sip.calls.liveDialogs).toBe(0);
    expect(sip.rtpPorts.inUse).toBe(0);
  });

  it.each([
    ['an unknown number', '+14155550499', sdpOffer(0), '404'],
    ['no common codec', NUMBER, sdpOffer(0, '18'), '488'],
    ['no SDP offer', NUMBER, '', '488'],
    ['SDP that is not SDP', NUMBER, 'hello\r\n', '400'],
    ['SRTP only', NUMBER, sdpOffer(0).replace('RTP/AVP', 'RTP/SAVP'), '488'],
  ])('%s: %s', async (_what, number, body, expected) => {
    const fixed = body.replace('m=audio 0 ', `m=audio ${media.port} `);
    send(request('INVITE', number, port(), newLeg(), peer, { body: fixed }));
    await peer.sip(expected);
    expect(sip.calls.liveDialogs).toBe(0);
    expect(sip.rtpPorts.inUse).toBe(0);
  });

  it('Require gets 420, unknown methods 405, requests outside a dialog 481', async () => {
    send(
      request('INVITE', NUMBER, port(), newLeg(), peer, {
        body: sdpOffer(media.port),
        extra: ['Require: 100rel'],
      }),
    );
    const bad = await peer.sip('420');
    expect(bad.headers.get('unsupported')).toBe('100rel');
    send(request('SUBSCRIBE', NUMBER, port(), newLeg(), peer));
    expect((await peer.sip('405')).headers.get('allow')).toContain('INVITE');
    send(request('BYE', NUMBER, port(), newLeg(), peer, { to: `<sip:${NUMBER}@x>;tag=nope` }));
    await peer.sip('481');
    send(request('CANCEL', NUMBER, port(), newLeg(), peer));
    await peer.sip('481');
  });
});
