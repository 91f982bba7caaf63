// A minimal SIP caller over raw UDP for the tests that need to see bytes SIPp hides: Parley's
// RTP packets, its BYE, its answers to malformed messages. Every wait is for a datagram, bounded.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { parseSipMessage, type SipMessage } from '../../src/transports/sip/message.js';
import { parseRtp } from '../../src/transports/sip/rtp.js';

export class UdpPeer {
  readonly socket: Socket = createSocket('udp4');
  private readonly inbox: { data: Buffer; port: number }[] = [];
  private waiters: (() => void)[] = [];
  port = 0;

  async open(): Promise<this> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', () => resolve()));
    this.port = this.socket.address().port;
    this.socket.on('message', (data, from) => {
      this.inbox.push({ data, port: from.port });
      for (const w of this.waiters.splice(0)) w();
    });
    return this;
  }

  send(data: Buffer | string, port: number): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, port, '127.0.0.1');
  }

  /** The first datagram (kept in order) that `match` accepts; it is removed from the inbox. */
  async next<T>(match: (data: Buffer) => T | undefined, timeoutMs = 5000, what = 'a datagram'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < this.inbox.length; i++) {
        const found = match((this.inbox[i] as { data: Buffer }).data);
        if (found !== undefined) {
          this.inbox.splice(i, 1);
          return found;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next SIP message whose start line matches (`200`, `BYE` …). */
  sip(startsWith: string, timeoutMs = 5000): Promise<SipMessage> {
    return this.next(
      (data) => {
        const parsed = parseSipMessage(data);
        if (!parsed.ok) return undefined;
        const m = parsed.message;
        const label = m.kind === 'response' ? String(m.status) : m.method;
        return label === startsWith ? m : undefined;
      },
      timeoutMs,
      `SIP ${startsWith}`,
    );
  }

  rtp(timeoutMs = 5000) {
    return this.next((data) => parseRtp(data), timeoutMs, 'an RTP packet');
  }

  drain(): void {
    this.inbox.length = 0;
  }

  close(): void {
    this.socket.close();
  }
}

export interface Leg {
  callId: string;
  fromTag: string;
  branch: string;
  to: string;
}

export const newLeg = (): Leg => ({
  callId: `${randomBytes(8).toString('hex')}@test`,
  fromTag: randomBytes(4).toString('hex'),
  branch: `z9hG4bK${randomBytes(8).toString('hex')}`,
  to: '',
});

export function sdpOffer(mediaPort: number, formats = '0 101'): string {
  return [
    'v=0',
    'o=test 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${mediaPort} RTP/AVP ${formats}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    '',
  ].join('\r\n');
}

export function request(
  method: string,
  number: string,
  sipPort: number,
  leg: Leg,
  peer: UdpPeer,
  options: { cseq?: number; body?: string; contentType?: string; to?: string; extra?: string[] } = {},
): string {
  const body = options.body ?? '';
  const lines = [
    `${method} sip:${number}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${leg.branch}`,
    `From: <sip:+15005550999@127.0.0.1:${peer.port}>;tag=${leg.fromTag}`,
    `To: ${options.to ?? `<sip:${number}@127.0.0.1:${sipPort}>`}`,
    `Call-ID: ${leg.callId}`,
    `CSeq: ${options.cseq ?? 1} ${method}`,
    `Contact: <sip:caller@127.0.0.1:${peer.port}>`,
    'Max-Forwards: 70',
    ...(options.extra ?? []),
    ...(body ? [`Content-Type: ${options.contentType ?? 'application/sdp'}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

/** An RTP packet (PCMU by default). */
export function rtpPacket(
  seq: number,
  timestamp: number,
  payload: Buffer,
  payloadType = 0,
  marker = false,
): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (marker ? 0x80 : 0) | payloadType;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(0x1234, 8);
  return Buffer.concat([header, payload]);
}
