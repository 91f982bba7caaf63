// Test scaffolding for the Telnyx adapter: a tiny WebSocket server that hands each media socket
// to `telnyxCarrier.createMedia` with a stub `control` and recording handlers, and a webhook
// receiver that plays Parley's side of the webhooks with the real carrier code.
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type {
  CallControl,
  CarrierAccount,
  CarrierHttpRequest,
  StatusReport,
} from '../../../src/transports/phone/carrier.js';
import { telnyxCarrier } from '../../../src/transports/phone/telnyx/carrier.js';
import type {
  ControlResult,
  Transport,
  TransportClose,
  TransportHello,
} from '../../../src/transports/transport.js';

export type Recorded =
  | { kind: 'hello'; hello: TransportHello }
  | { kind: 'audio'; frame: Int16Array }
  | { kind: 'mark'; id: string }
  | { kind: 'dtmf'; digits: string }
  | { kind: 'close'; info: TransportClose };

/** What one media socket's transport reported, with a way to await the next of a kind. */
export class Recorder extends EventEmitter {
  readonly events: Recorded[] = [];
  readonly control = { hangUps: 0, transfers: [] as unknown[], dtmf: [] as string[] };
  transport!: Transport;

  push(event: Recorded): void {
    this.events.push(event);
    this.emit('event', event);
  }

  of<K extends Recorded['kind']>(kind: K): Extract<Recorded, { kind: K }>[] {
    return this.events.filter((e): e is Extract<Recorded, { kind: K }> => e.kind === kind);
  }

  /** Resolves with the first event of `kind` matching `match` (already recorded or to come). */
  waitFor<K extends Recorded['kind']>(
    kind: K,
    match: (e: Extract<Recorded, { kind: K }>) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<Extract<Recorded, { kind: K }>> {
    const found = this.of(kind).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', listener);
        reject(new Error(`no ${kind} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (e: Recorded) => {
        if (e.kind === kind && match(e as Extract<Recorded, { kind: K }>)) {
          clearTimeout(timer);
          this.off('event', listener);
          resolve(e as Extract<Recorded, { kind: K }>);
        }
      };
      this.on('event', listener);
    });
  }
}

export interface MediaServer {
  url: string;
  /** The recorder of the next socket to connect. */
  nextSocket(): Promise<Recorder>;
  close(): Promise<void>;
}

export interface MediaServerOptions {
  helloTimeoutMs?: number;
  transferResult?: ControlResult;
}

export async function startMediaServer(options: MediaServerOptions = {}): Promise<MediaServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const pending: Recorder[] = [];
  const waiters: ((r: Recorder) => void)[] = [];
  wss.on('connection', (socket) => {
    const recorder = new Recorder();
    const control: CallControl = {
      hangUp: async () => {
        recorder.control.hangUps += 1;
        return { ok: true };
      },
      transfer: async (to) => {
        recorder.control.transfers.push(to);
        return options.transferResult ?? { ok: true };
      },
      sendDtmf: async (digits) => {
        recorder.control.dtmf.push(digits);
        return { ok: true };
      },
    };
    const transport = telnyxCarrier.createMedia(socket, {
      callId: 'PC-test',
      control,
      limits: { helloTimeoutMs: options.helloTimeoutMs ?? 2000 },
    });
    recorder.transport = transport;
    transport.start({
      onHello: (hello) => recorder.push({ kind: 'hello', hello }),
      onAudio: (frame) => recorder.push({ kind: 'audio', frame: frame.slice() }),
      onUserText: () => {},
      onDtmf: (digits) => recorder.push({ kind: 'dtmf', digits }),
      onMark: (id) => recorder.push({ kind: 'mark', id }),
      onSay: () => {},
      onEnd: () => {},
      onClose: (info) => recorder.push({ kind: 'close', info }),
    });
    const waiter = waiters.shift();
    if (waiter) waiter(recorder);
    else pending.push(recorder);
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/telephony/telnyx/media/PC-test/token`,
    nextSocket: () => {
      const ready = pending.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export interface ReceivedWebhook {
  event: string;
  verification: ReturnType<typeof telnyxCarrier.verifyWebhook>;
  status: StatusReport | undefined;
  body: unknown;
}

/**
 * Parley's webhook side, with the real carrier code: verify (403 when bad), then answer
 * `call.initiated` with `answer` (or `refuse` when `refuse` is set), and map every event's status.
 */
export async function startWebhookReceiver(
  account: () => CarrierAccount,
  options: {
    mediaUrl: () => string;
    refuse?: { say: string; forwardTo?: { type: 'number'; number: string } };
  },
): Promise<{ url: string; received: ReceivedWebhook[]; close: () => Promise<void> }> {
  const received: ReceivedWebhook[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const request: CarrierHttpRequest = {
        method: req.method ?? 'POST',
        url: `${base}${req.url ?? '/'}`,
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
        ),
        rawBody,
      };
      const verification = telnyxCarrier.verifyWebhook(request, account(), Date.now());
      const body: unknown = JSON.parse(rawBody.toString('utf8'));
      const event = (body as { data: { event_type: string } }).data.event_type;
      if (!verification.ok) {
        received.push({ event, verification, status: undefined, body });
        res.writeHead(403).end(verification.reason);
        return;
      }
      received.push({ event, verification, status: telnyxCarrier.parseStatus(request), body });
      const offer = telnyxCarrier.parseInbound(request);
      if (!offer) {
        res.writeHead(200).end();
        return;
      }
      const signal = AbortSignal.timeout(5000);
      const reply = options.refuse
        ? telnyxCarrier.refuse(offer, options.refuse, account(), signal)
        : telnyxCarrier.answer(
            {
              callId: 'PC-test',
              offer,
              urls: {
                mediaUrl: options.mediaUrl(),
                statusUrl: `${base}/status/PC-test`,
                answerUrl: `${base}/answer`,
                afterUrl: `${base}/after`,
              },
            },
            account(),
            signal,
          );
      reply.then(
        (r) => res.writeHead(r.status, r.contentType ? { 'content-type': r.contentType } : {}).end(r.body),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/inbound`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** PCM16 whose 20-ms frame k holds the constant (k + 1) × step (frames identifiable after µ-law). */
export function steppedPcm(frames: number, samplesPerFrame: number, step = 1000): Int16Array {
  const pcm = new Int16Array(frames * samplesPerFrame);
  for (let k = 0; k < frames; k++) pcm.fill((k + 1) * step, k * samplesPerFrame, (k + 1) * samplesPerFrame);
  return pcm;
}
