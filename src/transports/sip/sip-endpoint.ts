/**
 * SIP over UDP (RFC 3261 §17, §18): one socket, server transactions that answer retransmitted
 * requests with the response already sent (and retransmit INVITE final responses on Timer G
 * until the ACK, giving up on Timer H), client transactions for Parley's own requests (BYE)
 * retransmitted on Timer E until answered (Timer F), `CANCEL` matched to its INVITE, a rate
 * limit per source address against scanners, and a bounded number of live transactions. What a
 * request means is the `SipRequestHandler`'s business (`sip-calls.ts`). Nothing that arrives can
 * throw out of here: malformed requests get a `400` when they can be addressed, else are dropped.
 * TCP and TLS would be more `send` paths beside the datagram one (a `Peer` already says where a
 * message came from).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { TokenBucket } from '../../shared/input-limits.js';
import {
  type HeaderLines,
  parseSipMessage,
  responseTo,
  type SipRequest,
  type SipResponse,
  serializeRequest,
  topVia,
} from './message.js';

/** RFC 3261 timer values (ms). */
export const T1 = 500;
export const T2 = 4000;
/** Timers B, F, H and J: 64 × T1. */
export const TRANSACTION_TIMEOUT_MS = 64 * T1;
/** Requests a second from one address, and the burst allowed. */
const RATE_PER_SECOND = 200;
const RATE_BURST = 400;
const MAX_TRANSACTIONS = 10_000;
const MAX_RATE_BUCKETS = 10_000;

export const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO';

export interface Peer {
  address: string;
  port: number;
}

/** A server transaction: where to answer a request, once per status. */
export interface ServerTransaction {
  readonly request: SipRequest;
  readonly peer: Peer;
  /**
   * Sends a response. An INVITE's final response is retransmitted (Timer G) until `acked()`;
   * after Timer H `onAckTimeout` runs.
   */
  respond(
    status: number,
    reason: string,
    options?: { toTag?: string; extra?: HeaderLines; body?: string; onAckTimeout?: () => void },
  ): void;
  /** The ACK came: stop retransmitting the final response. */
  acked(): void;
  readonly final: boolean;
}

export interface SipRequestHandler {
  /** A new request (not a retransmission, ACK or CANCEL). */
  onRequest(tx: ServerTransaction): void;
  /** An ACK to a 2xx (its own transaction, RFC 3261 §17.1.1.3). */
  onAck(request: SipRequest, peer: Peer): void;
  /** A CANCEL of the INVITE of `invite`; the CANCEL itself was answered 200. */
  onCancel(invite: ServerTransaction): void;
}

interface ServerTx extends ServerTransaction {
  final: boolean;
  last?: Buffer;
  timers: NodeJS.Timeout[];
}

export interface SipEndpointOptions {
  host: string;
  port: number;
  /** Timers B, F, H and J (default 64 × T1 = 32 s; tests shorten it). */
  transactionTimeoutMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

export class SipEndpoint {
  private socket: Socket | undefined;
  private readonly transactions = new Map<string, ServerTx>();
  private readonly clients = new Map<string, (response: SipResponse) => void>();
  private readonly rates = new Map<string, TokenBucket>();
  private handler: SipRequestHandler | undefined;
  /** Counters for logs and tests. */
  readonly stats = { received: 0, malformed: 0, limited: 0 };
  localPort = 0;
  private readonly timeoutMs: number;

  constructor(private readonly options: SipEndpointOptions) {
    this.timeoutMs = options.transactionTimeoutMs ?? TRANSACTION_TIMEOUT_MS;
  }

  async listen(handler: SipRequestHandler): Promise<void> {
    this.handler = handler;
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port, this.options.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (error) => this.options.log?.warn({ err: error }, 'SIP socket error'));
    socket.on('message', (data, info) => {
      try {
        this.receive(data, { address: info.address, port: info.port });
      } catch (error) {
        // A bug here must not take the process down; the message is lost, the endpoint stays.
        this.options.log?.warn({ err: error }, 'a SIP message could not be handled');
      }
    });
    this.socket = socket;
    this.localPort = socket.address().port;
  }

  async close(): Promise<void> {
    for (const tx of this.transactions.values()) for (const t of tx.timers) clearTimeout(t);
    this.transactions.clear();
    this.clients.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  get liveTransactions(): number {
    return this.transactions.size;
  }

  send(data: Buffer, peer: Peer): void {
    this.socket?.send(data, peer.port, peer.address);
  }

  private limited(peer: Peer): boolean {
    let bucket = this.rates.get(peer.address);
    if (!bucket) {
      if (this.rates.size >= MAX_RATE_BUCKETS) this.rates.clear();
      bucket = new TokenBucket(RATE_PER_SECOND / 1000, RATE_BURST);
      this.rates.set(peer.address, bucket);
    }
    return !bucket.take(1, performance.now());
  }

  private receive(data: Buffer, peer: Peer): void {
    this.stats.received++;
    if (this.limited(peer)) {
      this.stats.limited++;
      return;
    }
    // Keep-alives (RFC 5626 CRLF) are not messages.
    if (data.length <= 4 && data.toString('latin1').trim() === '') return;
    const parsed = parseSipMessage(data);
    if (!parsed.ok) {
      this.stats.malformed++;
      const partial = parsed.partial;
      if (partial && partial.method !== 'ACK' && partial.headers.get('via'))
        this.send(responseTo(partial, 400, `Bad Request (${parsed.error.slice(0, 80)})`), peer);
      return;
    }
    const message = parsed.message;
    if (message.kind === 'response') {
      const branch = topVia(message.headers)?.branch;
      const waiter = branch ? this.clients.get(branch) : undefined;
      // Stray responses (no transaction of ours) are dropped.
      if (waiter) waiter(message);
      return;
    }
    const via = topVia(message.headers);
    if (!via) {
      this.send(responseTo(message, 400, 'Bad Request (bad Via)'), peer);
      return;
    }
    const key = (method: string) =>
      via.branch?.startsWith('z9hG4bK')
        ? `${via.branch}|${via.sentBy}|${method}`
        : `${message.headers.get('call-id')}|${message.headers.get('cseq')?.split(/\s+/)[0]}|${via.sentBy}|${method}`;
    if (message.method === 'ACK') {
      const invite = this.transactions.get(key('INVITE'));
      // An ACK to a non-2xx final response belongs to the INVITE's transaction.
      if (invite) invite.acked();
      else this.handler?.onAck(message, peer);
      return;
    }
    const existing = this.transactions.get(key(message.method));
    if (existing) {
      // A retransmission: the answer already given, again (nothing before a response exists).
      if (existing.last) this.send(existing.last, peer);
      return;
    }
    if (this.transactions.size >= MAX_TRANSACTIONS) {
      this.send(responseTo(message, 503, 'Service Unavailable'), peer);
      return;
    }
    if (message.method === 'CANCEL') {
      const invite = this.transactions.get(key('INVITE'));
      const tx = this.open(key('CANCEL'), message, peer);
      if (!invite) {
        tx.respond(481, 'Call/Transaction Does Not Exist');
        return;
      }
      tx.respond(200, 'OK');
      if (!invite.final) this.handler?.onCancel(invite);
      return;
    }
    const tx = this.open(key(message.method), message, peer);
    this.handler?.onRequest(tx);
  }

  private open(key: string, request: SipRequest, peer: Peer): ServerTx {
    const isInvite = request.method === 'INVITE';
    const transactions = this.transactions;
    const endpoint = this;
    const timeoutMs = this.timeoutMs;
    const tx: ServerTx = {
      request,
      peer,
      final: false,
      timers: [],
      respond(status, reason, options = {}) {
        if (tx.final) return;
        const { onAckTimeout, ...rest } = options;
        const bytes = responseTo(request, status, reason, rest);
        tx.last = bytes;
        endpoint.send(bytes, peer);
        if (status < 200) return;
        tx.final = true;
        if (isInvite) {
          // Timer G: retransmit the final response until the ACK; Timer H: give up.
          let interval = T1;
          const again = () => {
            endpoint.send(bytes, peer);
            interval = Math.min(interval * 2, T2);
            tx.timers.push(setTimeout(again, interval).unref());
          };
          tx.timers.push(setTimeout(again, interval).unref());
          tx.timers.push(
            setTimeout(() => {
              tx.acked();
              onAckTimeout?.();
            }, timeoutMs).unref(),
          );
        } else {
          // Timer J: keep the response for retransmitted requests, then forget.
          tx.timers.push(setTimeout(() => forget(), timeoutMs).unref());
        }
      },
      acked() {
        for (const t of tx.timers) clearTimeout(t);
        tx.timers = [];
        // Timer I: absorb retransmitted ACKs a little longer, then forget.
        tx.timers.push(setTimeout(() => forget(), 5000).unref());
      },
    };
    const forget = () => {
      for (const t of tx.timers) clearTimeout(t);
      if (transactions.get(key) === tx) transactions.delete(key);
    };
    // A request never answered (a handler that failed) is forgotten after Timer H as well.
    tx.timers.push(setTimeout(() => forget(), timeoutMs * 2).unref());
    transactions.set(key, tx);
    return tx;
  }

  /** A new branch for Parley's own requests (RFC 3261 magic cookie prefix). */
  static branch(): string {
    return `z9hG4bK${randomBytes(10).toString('hex')}`;
  }

  /** This endpoint's Via for a request sent from `sentBy`. */
  via(sentBy: string, branch: string): string {
    return `SIP/2.0/UDP ${sentBy};branch=${branch};rport`;
  }

  /**
   * Sends a non-INVITE request (Timer E retransmissions) and resolves with its final response,
   * or undefined after Timer F or when `signal` aborts. `headers` must start with this Via.
   */
  request(
    method: string,
    uri: string,
    branch: string,
    headers: HeaderLines,
    peer: Peer,
    signal?: AbortSignal,
  ): Promise<SipResponse | undefined> {
    const bytes = serializeRequest(method, uri, headers);
    return new Promise((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const done = (response: SipResponse | undefined) => {
        for (const t of timers) clearTimeout(t);
        this.clients.delete(branch);
        signal?.removeEventListener('abort', abort);
        resolve(response);
      };
      const abort = () => done(undefined);
      signal?.addEventListener('abort', abort, { once: true });
      this.clients.set(branch, (response) => {
        if (response.status >= 200) done(response);
      });
      this.send(bytes, peer);
      let interval = T1;
      const again = () => {
        this.send(bytes, peer);
        interval = Math.min(interval * 2, T2);
        timers.push(setTimeout(again, interval).unref());
      };
      timers.push(setTimeout(again, interval).unref());
      timers.push(setTimeout(() => done(undefined), this.timeoutMs).unref());
    });
  }
}
