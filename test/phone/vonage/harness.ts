// A tiny stand-in for the shared phone routes, so the Vonage adapter can be tested against its
// simulator over real sockets without the server: an HTTP server with the answer and event
// webhooks (verified with `vonageCarrier`), and a WebSocket endpoint that hands each socket to
// `vonageCarrier.createMedia` with a recording handler set.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type {
  CallControl,
  CarrierAccount,
  CarrierHttpRequest,
  StatusReport,
} from '../../../src/transports/phone/carrier.js';
import { vonageCarrier } from '../../../src/transports/phone/vonage/carrier.js';
import type {
  ControlResult,
  Transport,
  TransportClose,
  TransportHandlers,
  TransportHello,
} from '../../../src/transports/transport.js';

export class Recorder implements TransportHandlers {
  hello: TransportHello | undefined;
  readonly frames: Int16Array[] = [];
  readonly marks: string[] = [];
  readonly dtmf: string[] = [];
  close: TransportClose | undefined;
  private waiters: (() => void)[] = [];

  private changed(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `test()` holds (checked after every event), or rejects after `timeoutMs`. */
  until(test: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  onHello(hello: TransportHello): void {
    this.hello = hello;
    this.changed();
  }
  onAudio(frame: Int16Array): void {
    this.frames.push(frame.slice());
    this.changed();
  }
  onUserText(): void {}
  onDtmf(digits: string): void {
    this.dtmf.push(digits);
    this.changed();
  }
  onMark(id: string): void {
    this.marks.push(id);
    this.changed();
  }
  onSay(): void {}
  onEnd(): void {}
  onClose(info: TransportClose): void {
    if (this.close) throw new Error('onClose twice');
    this.close = info;
    this.changed();
  }
}

export interface StubControl extends CallControl {
  calls: string[];
  transferResult: ControlResult;
}

export function stubControl(): StubControl {
  const control: StubControl = {
    calls: [],
    transferResult: { ok: true },
    async hangUp() {
      control.calls.push('hangUp');
      return { ok: true };
    },
    async transfer() {
      control.calls.push('transfer');
      return control.transferResult;
    },
    async sendDtmf(digits) {
      control.calls.push(`dtmf:${digits}`);
      return { ok: true };
    },
  };
  return control;
}

export interface MediaSession {
  callId: string;
  transport: Transport;
  recorder: Recorder;
}

export interface Harness {
  baseUrl: string;
  wsUrl: string;
  statuses: StatusReport[];
  webhookRefusals: string[];
  sessions: MediaSession[];
  /** Resolves with the next media session (a socket that reached the server). */
  nextSession(): Promise<MediaSession>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The account the webhooks are verified against and REST control uses. */
  account?: () => CarrierAccount;
  /** Control for a media socket (default: a stub). */
  control?: (callId: string) => CallControl;
  helloTimeoutMs?: number;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const statuses: StatusReport[] = [];
  const webhookRefusals: string[] = [];
  const sessions: MediaSession[] = [];
  const sessionWaiters: ((s: MediaSession) => void)[] = [];
  let baseUrl = '';
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer(async (req, res) => {
    const rawBody = await readBody(req);
    const request: CarrierHttpRequest = {
      method: req.method ?? 'GET',
      url: `${baseUrl}${req.url ?? '/'}`,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]),
      ),
      rawBody,
    };
    const account = options.account?.();
    if (!account) return void res.writeHead(500).end('no account');
    const verification = vonageCarrier.verifyWebhook(request, account, Date.now());
    if (!verification.ok) {
      webhookRefusals.push(verification.reason);
      return void res.writeHead(403).end(verification.reason);
    }
    const path = new URL(request.url).pathname;
    if (path.endsWith('/inbound')) {
      const offer = vonageCarrier.parseInbound(request);
      if (!offer) return void res.writeHead(400).end('not an inbound call');
      const callId = `PC-${offer.carrierCallId}`;
      const urls = {
        mediaUrl: `${baseUrl.replace('http', 'ws')}/media/${callId}/token-1`,
        statusUrl: `${baseUrl}/n1/status`,
        answerUrl: `${baseUrl}/n1/answer`,
        afterUrl: `${baseUrl}/n1/after`,
      };
      const reply = await vonageCarrier.answer({ callId, offer, urls }, account, AbortSignal.timeout(1000));
      return void res
        .writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain' })
        .end(reply.body);
    }
    if (path.endsWith('/status')) {
      const report = vonageCarrier.parseStatus(request);
      if (report) statuses.push(report);
      return void res.writeHead(204).end();
    }
    res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    const match = /^\/media\/([^/]+)\/[^/]+$/.exec(req.url ?? '');
    if (!match?.[1]) return void socket.destroy();
    const callId = match[1];
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const transport = vonageCarrier.createMedia(ws, {
        callId,
        control: options.control?.(callId) ?? stubControl(),
        limits: { helloTimeoutMs: options.helloTimeoutMs ?? 2000 },
      });
      const recorder = new Recorder();
      transport.start(recorder);
      const session = { callId, transport, recorder };
      sessions.push(session);
      const waiter = sessionWaiters.shift();
      if (waiter) waiter(session);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let taken = 0;
  return {
    baseUrl,
    wsUrl: `${baseUrl.replace('http', 'ws')}/media`,
    statuses,
    webhookRefusals,
    sessions,
    nextSession() {
      const ready = sessions[taken];
      if (ready) {
        taken++;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) =>
        sessionWaiters.push((s) => {
          taken++;
          resolve(s);
        }),
      );
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
