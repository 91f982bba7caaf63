/**
 * RTP (RFC 3550) for one call: a UDP socket on a port of the configured range, G.711 packets of
 * 20 ms each way, RFC 4733 telephone-events in. Symmetric RTP (RFC 4961): Parley sends to where
 * the caller's packets come from once the first one arrived (NAT), until then to the SDP
 * address. Incoming packets are checked (version, header length, payload type, source), old and
 * duplicate ones dropped, and a short gap in sequence numbers becomes silence so the
 * recogniser's clock stays true.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { alawDecodeInto, alawEncodeInto, mulawDecodeInto, mulawEncodeInto } from '../../audio/g711.js';
import type { AudioOffer } from './sdp.js';

/** Samples in one 20-ms G.711 packet. */
export const FRAME_SAMPLES = 160;
/** A sequence gap up to this many packets is filled with silence; longer ones are skipped. */
const MAX_GAP_PACKETS = 50;
const RFC4733_DIGITS = '0123456789*#ABCD';

/** A range of UDP ports for RTP (`PARLEY_RTP_PORTS`); even ports are used (RTCP would take the odd one). */
export class RtpPortRange {
  private next: number;
  private readonly used = new Set<number>();

  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1024 || max > 65535 || min > max)
      throw new Error(`bad RTP port range ${min}-${max}`);
    this.next = min + (min % 2);
  }

  get inUse(): number {
    return this.used.size;
  }

  /** Binds a socket on a free port of the range; throws when every port is taken. */
  async open(host: string): Promise<{ socket: Socket; port: number; release(): void }> {
    const span = Math.floor((this.max - this.min) / 2) + 1;
    for (let tries = 0; tries < span; tries++) {
      const port = this.next;
      this.next = port + 2 > this.max ? this.min + (this.min % 2) : port + 2;
      if (this.used.has(port)) continue;
      this.used.add(port);
      const socket = createSocket('udp4');
      const bound = await new Promise<boolean>((resolve) => {
        socket.once('error', () => resolve(false));
        socket.bind(port, host, () => resolve(true));
      });
      if (bound) {
        let released = false;
        return {
          socket,
          port,
          release: () => {
            if (released) return;
            released = true;
            this.used.delete(port);
            try {
              socket.close();
            } catch {
              // Already closed.
            }
          },
        };
      }
      this.used.delete(port);
      socket.close();
    }
    throw new Error(`no free RTP port in ${this.min}-${this.max}`);
  }
}

export interface RtpHandlers {
  /** 160 samples of caller audio (PCM16, 8 kHz). */
  onAudio(frame: Int16Array): void;
  onDigit(digit: string): void;
}

/** Parsed fixed header and payload of an RTP packet; undefined when it is not one. */
export function parseRtp(
  data: Buffer,
):
  | { payloadType: number; marker: boolean; seq: number; timestamp: number; ssrc: number; payload: Buffer }
  | undefined {
  if (data.length < 12 || data[0] === undefined || data[1] === undefined) return undefined;
  const first = data[0];
  if (first >> 6 !== 2) return undefined;
  let offset = 12 + (first & 0x0f) * 4;
  if (first & 0x10) {
    if (data.length < offset + 4) return undefined;
    offset += 4 + data.readUInt16BE(offset + 2) * 4;
  }
  let end = data.length;
  if (first & 0x20) end -= data[data.length - 1] ?? 0;
  if (offset > end) return undefined;
  return {
    payloadType: data[1] & 0x7f,
    marker: (data[1] & 0x80) !== 0,
    seq: data.readUInt16BE(2),
    timestamp: data.readUInt32BE(4),
    ssrc: data.readUInt32BE(8),
    payload: data.subarray(offset, end),
  };
}

export class RtpSession {
  private remote: { address: string; port: number };
  private latched = false;
  private seq = randomInt(0, 0x10000);
  private timestamp = randomInt(0, 2 ** 32);
  private readonly ssrc = randomInt(0, 2 ** 32);
  private marker = true;
  private lastSeq: number | undefined;
  private lastDtmfTimestamp: number | undefined;
  private readonly encoded = new Uint8Array(FRAME_SAMPLES);
  private handlers: RtpHandlers | undefined;
  private closed = false;
  /** Counters for logs and tests. */
  readonly stats = { received: 0, sent: 0, dropped: 0, digits: 0 };

  constructor(
    private readonly socket: Socket,
    readonly localPort: number,
    readonly offer: AudioOffer,
    private readonly releasePort: () => void,
  ) {
    this.remote = { address: offer.address, port: offer.port };
    socket.on('message', (data, from) => this.onPacket(data, from));
    socket.on('error', () => {
      // A send to an unreachable port (ICMP) must not crash the process; the call goes on.
    });
  }

  start(handlers: RtpHandlers): void {
    this.handlers = handlers;
  }

  private onPacket(data: Buffer, from: { address: string; port: number }): void {
    if (this.closed) return;
    const rtp = parseRtp(data);
    if (!rtp) {
      this.stats.dropped++;
      return;
    }
    const isAudio = rtp.payloadType === this.offer.payloadType;
    const isDtmf = this.offer.dtmfPayloadType !== undefined && rtp.payloadType === this.offer.dtmfPayloadType;
    if (!isAudio && !isDtmf) {
      this.stats.dropped++;
      return;
    }
    if (!this.latched) {
      // Symmetric RTP: answer where the caller's packets really come from (a NAT's mapping).
      this.latched = true;
      this.remote = { address: from.address, port: from.port };
    } else if (from.address !== this.remote.address || from.port !== this.remote.port) {
      this.stats.dropped++;
      return;
    }
    let gap = 0;
    if (this.lastSeq !== undefined) {
      const delta = (rtp.seq - this.lastSeq + 0x10000) % 0x10000;
      if (delta === 0 || delta > 0x8000) {
        // A duplicate or a late packet: its time has passed.
        this.stats.dropped++;
        return;
      }
      gap = delta - 1;
    }
    this.lastSeq = rtp.seq;
    this.stats.received++;
    if (isDtmf) {
      this.onTelephoneEvent(rtp.payload, rtp.timestamp);
      return;
    }
    if (rtp.payload.length !== FRAME_SAMPLES) {
      this.stats.dropped++;
      return;
    }
    if (gap > 0 && gap <= MAX_GAP_PACKETS)
      for (let i = 0; i < gap; i++) this.handlers?.onAudio(new Int16Array(FRAME_SAMPLES));
    const pcm = new Int16Array(FRAME_SAMPLES);
    if (this.offer.codec === 'PCMU') mulawDecodeInto(rtp.payload, pcm);
    else alawDecodeInto(rtp.payload, pcm);
    this.handlers?.onAudio(pcm);
  }

  /** RFC 4733 §2.3: one digit per event timestamp (start, updates and three end packets share it). */
  private onTelephoneEvent(payload: Buffer, timestamp: number): void {
    if (payload.length < 4 || this.lastDtmfTimestamp === timestamp) return;
    const digit = RFC4733_DIGITS[payload[0] ?? 255];
    if (!digit) return;
    this.lastDtmfTimestamp = timestamp;
    this.stats.digits++;
    this.handlers?.onDigit(digit);
  }

  /** Sends one 20-ms frame (160 samples) as one RTP packet. */
  send(frame: Int16Array): void {
    if (this.closed || frame.length !== FRAME_SAMPLES) return;
    if (this.offer.codec === 'PCMU') mulawEncodeInto(frame, this.encoded);
    else alawEncodeInto(frame, this.encoded);
    // A new buffer per packet: dgram reads it after `send` returns.
    const p = Buffer.allocUnsafe(12 + FRAME_SAMPLES);
    p[0] = 0x80;
    p[1] = (this.marker ? 0x80 : 0) | this.offer.payloadType;
    p.writeUInt16BE(this.seq, 2);
    p.writeUInt32BE(this.timestamp >>> 0, 4);
    p.writeUInt32BE(this.ssrc, 8);
    p.set(this.encoded, 12);
    this.marker = false;
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) % 2 ** 32;
    this.stats.sent++;
    this.socket.send(p, this.remote.port, this.remote.address);
  }

  /** The next packet starts a talkspurt (after a `clear`). */
  newTalkspurt(): void {
    this.marker = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.releasePort();
  }
}
