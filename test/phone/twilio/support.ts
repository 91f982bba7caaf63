// A stand-in for the shared phone routes, just enough to drive the Twilio adapter over real
// sockets: webhooks verified and parsed with `twilioCarrier`, TwiML answers, and a media
// WebSocket whose sockets go to `twilioCarrier.createMedia` with a stub call control.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type {
  CallControl,
  CarrierAccount,
  CarrierHttpRequest,
  StatusReport,
  Verification,
} from '../../../src/transports/phone/carrier.js';
import { afterConnect, twilioCarrier } from '../../../src/transports/phone/twilio/carrier.js';
import type {
  ControlResult,
  Transport,
  TransportClose,
  TransportHandlers,
  TransportHello,
} from '../../../src/transports/transport.js';

/** Records what a transport tells the call; `next(kind)` awaits an event without sleeping. */
export class Recorder extends EventEmitter {
  hello: TransportHello | undefined;
  frames: Int16Array[] = [];
  marks: string[] = [];
  digits: string[] = [];
  close: TransportClose | undefined;

  readonly handlers: TransportHandlers = {
    onHello: (hello) => {
      this.hello = hello;
      this.emit('hello', hello);
    },
    onAudio: (frame) => {
      this.frames.push(frame.slice());
      this.emit('audio', frame);
    },
    onUserText: () => {},
    onDtmf: (digits) => {
      this.digits.push(digits);
      this.emit('dtmf', digits);
    },
    onMark: (id) => {
      this.marks.push(id);
      this.emit('mark', id);
    },
    onSay: () => {},
    onEnd: () => {},
    onClose: (info) => {
      this.close = info;
      this.emit('close', info);
    },
  };

  /** Resolves when `check` holds, re-checked on every event (fails after `timeoutMs`). */
  until(check: () => boolean, timeoutMs = 3000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const events = ['hello', 'audio', 'dtmf', 'mark', 'close'];
      const timer = setTimeout(() => {
        for (const e of events) this.off(e, listener);
        reject(new Error('condition not met in time'));
      }, timeoutMs);
      const listener = () => {
        if (!check()) return;
        clearTimeout(timer);
        for (const e of events) this.off(e, listener);
        resolve();
      };
      for (const e of events) this.on(e, listener);
    });
  }
}

export class StubControl implements CallControl {
  hangUps = 0;
  transfers: unknown[] = [];
  transferResult: ControlResult = { ok: true };
  async hangUp(): Promise<ControlResult> {
    this.hangUps++;
    return { ok: true };
  }
  async transfer(to: unknown): Promise<ControlResult> {
    this.transfers.push(to);
    return this.transferResult;
  }
  async sendDtmf(): Promise<ControlResult> {
    return { ok: false, error: 'stub' };
  }
}

export interface MediaSession {
  callId: string;
  transport: Transport;
  recorder: Recorder;
  control: StubControl;
  upgrade: Verification;
  path: string;
}

/** Mini phone routes on 127.0.0.1: `/inbound`, `/status`, `/after`, and `ws /media/<callId>/<token>`. */
export class MiniRoutes {
  readonly statuses: StatusReport[] = [];
  readonly statusVerifications: Verification[] = [];
  readonly sessions = new EventEmitter();
  control: (callId: string) => StubControl = () => new StubControl();
  helloTimeoutMs = 3000;
  base = '';
  #server: Server | undefined;
  #wss = new WebSocketServer({ noServer: true });

  constructor(readonly account: () => CarrierAccount) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void this.#http(req).then((reply) => {
        res.writeHead(reply.status, reply.contentType ? { 'content-type': reply.contentType } : {});
        res.end(reply.body);
      });
    });
    server.on('upgrade', (req, socket, head) => {
      const path = req.url ?? '/';
      const upgrade = twilioCarrier.verifyMediaUpgrade(
        this.#request(req, Buffer.alloc(0), 'ws'),
        this.account(),
        Date.now(),
      );
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        const callId = path.split('/')[2] ?? '';
        const control = this.control(callId);
        const recorder = new Recorder();
        const transport = twilioCarrier.createMedia(ws, {
          callId,
          control,
          limits: { helloTimeoutMs: this.helloTimeoutMs },
        });
        transport.start(recorder.handlers);
        this.sessions.emit('session', {
          callId,
          transport,
          recorder,
          control,
          upgrade,
          path,
        } satisfies MediaSession);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  nextSession(): Promise<MediaSession> {
    return new Promise((resolve) => this.sessions.once('session', resolve));
  }

  urls(callId: string, token = 'tok123') {
    return {
      mediaUrl: `${this.base.replace('http:', 'ws:')}/media/${callId}/${token}`,
      statusUrl: `${this.base}/status`,
      answerUrl: `${this.base}/answer`,
      afterUrl: `${this.base}/after`,
    };
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #request(req: IncomingMessage, rawBody: Buffer, scheme: 'http' | 'ws'): CarrierHttpRequest {
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
    return {
      method: req.method ?? 'GET',
      url: `${this.base.replace('http:', `${scheme}:`)}${req.url}`,
      headers,
      rawBody,
    };
  }

  async #http(req: IncomingMessage) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = this.#request(req, Buffer.concat(chunks), 'http');
    const verified = twilioCarrier.verifyWebhook(request, this.account(), Date.now());
    const path = (req.url ?? '').split('?')[0];
    if (path === '/status') this.statusVerifications.push(verified);
    if (!verified.ok) return { status: 403, body: verified.reason };
    if (path === '/inbound') {
      const offer = twilioCarrier.parseInbound(request);
      if (!offer) return { status: 400, body: 'not an inbound call' };
      const callId = `PC-${offer.carrierCallId.slice(2, 10)}`;
      return twilioCarrier.answer(
        { callId, offer, urls: this.urls(callId) },
        this.account(),
        AbortSignal.timeout(1000),
      );
    }
    if (path === '/status') {
      const status = twilioCarrier.parseStatus(request);
      if (status) this.statuses.push(status);
      return { status: 204, body: '' };
    }
    if (path === '/after') return afterConnect();
    return { status: 404, body: '' };
  }
}

/** A ramp of PCM16 samples that survives µ-law coding recognisably. */
export function tone(samples: number, frequency = 440, sampleRate = 8000): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++)
    out[i] = Math.round(8000 * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
  return out;
}
