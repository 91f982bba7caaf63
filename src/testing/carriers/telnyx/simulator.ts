/**
 * Telnyx played by the test suite (`CarrierSimulator`): a fake Call Control REST API on
 * 127.0.0.1 (`/v2/calls`, `/v2/calls/{id}/actions/{answer|hangup|transfer|send_dtmf|speak|…}`,
 * Bearer auth, Telnyx's error bodies, 422/90018 for a call that has ended), webhooks signed like
 * Telnyx's (Ed25519 over `${timestamp}|${body}` with a key pair generated here; its public key is
 * `credentials.publicKey`), and the media WebSocket client (`media-client.ts`). One webhook URL
 * per call receives every event (`call.initiated`, `call.answered`, `call.hangup` with
 * `hangup_cause`, `call.machine.detection.ended`): the connection's (the inbound URL) until a
 * command sets `webhook_url`.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CarrierSimulator, RestRequest, SimulatedMedia, SimulatedOutbound } from '../simulator.js';
import { TelnyxMediaClient } from './media-client.js';

export interface TelnyxSimulatorOptions {
  /** Transfers answer 422 (the destination refused) instead of bridging. */
  rejectTransfers?: boolean;
  /** Every n-th pair of caller frames is sent swapped (0: in order). */
  swapEvery?: number;
}

/** One call as the simulator holds it. */
export interface TelnyxSimCall {
  id: string;
  direction: 'incoming' | 'outgoing';
  from: string;
  to: string;
  webhookUrl: string;
  clientState: string | null;
  ended: boolean;
  answered: boolean;
  machineDetection: boolean;
  streamUrl?: string;
  codec?: 'PCMU' | 'L16';
  media?: TelnyxMediaClient;
  /** Resolves when Parley answered, refused or ended this inbound call. */
  handled: Promise<void>;
  markHandled: () => void;
}

type WebhookSigning = 'valid' | 'bad' | 'stale';

/** Sends a JSON answer; `true` so handlers can `return json(…)`. */
const json = (res: ServerResponse, status: number, body: unknown): true => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return true;
};
const telnyxError = (res: ServerResponse, status: number, code: string, title: string, detail: string) =>
  json(res, status, { errors: [{ code, title, detail }] });

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class TelnyxSimulator implements CarrierSimulator {
  readonly carrier = 'telnyx' as const;
  readonly credentials: Record<string, string>;
  readonly restLog: RestRequest[] = [];
  /** Every webhook sent: event type, URL, and Parley's answer status. */
  readonly webhooks: { event: string; url: string; status: number }[] = [];
  private readonly privateKey: KeyObject;
  private readonly otherKey: KeyObject;
  private readonly server: Server;
  private base = '';
  private readonly calls = new Map<string, TelnyxSimCall>();
  private readonly outbound: TelnyxSimCall[] = [];
  private readonly outboundWaiters: ((call: TelnyxSimCall) => void)[] = [];
  private counter = 0;

  constructor(private readonly options: TelnyxSimulatorOptions = {}) {
    const pair = generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.otherKey = generateKeyPairSync('ed25519').privateKey;
    const x = pair.publicKey.export({ format: 'jwk' }).x ?? '';
    this.credentials = {
      apiKey: `KEY${crypto.randomUUID().replace(/-/g, '')}`,
      publicKey: Buffer.from(x, 'base64url').toString('base64'),
      connectionId: '1494404757140276705',
    };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) telnyxError(res, 500, '10007', 'Unexpected error', String(error));
      });
    });
  }

  get apiBaseUrl(): string {
    if (!this.base) throw new Error('TelnyxSimulator: call start() first');
    return this.base;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const call of this.calls.values()) call.media?.drop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The headers Telnyx signs a webhook with. */
  signedHeaders(body: string, signing: WebhookSigning = 'valid', nowMs = Date.now()): Record<string, string> {
    const timestamp = String(Math.floor(nowMs / 1000) - (signing === 'stale' ? 600 : 0));
    const key = signing === 'bad' ? this.otherKey : this.privateKey;
    const signature = sign(null, Buffer.from(`${timestamp}|${body}`, 'utf8'), key).toString('base64');
    return {
      'content-type': 'application/json',
      'user-agent': 'telnyx-webhooks',
      'telnyx-signature-ed25519': signature,
      'telnyx-timestamp': timestamp,
    };
  }

  /** Builds a webhook body as Telnyx does. */
  webhookBody(event: string, call: TelnyxSimCall, extra: Record<string, unknown> = {}): string {
    return JSON.stringify({
      data: {
        event_type: event,
        id: crypto.randomUUID(),
        occurred_at: new Date().toISOString(),
        record_type: 'event',
        payload: {
          call_control_id: call.id,
          call_leg_id: `leg-${call.id}`,
          call_session_id: `session-${call.id}`,
          client_state: call.clientState,
          connection_id: this.credentials.connectionId,
          direction: call.direction,
          from: call.from,
          to: call.to,
          ...extra,
        },
      },
      meta: { attempt: 1, delivered_to: call.webhookUrl },
    });
  }

  private async webhook(
    call: TelnyxSimCall,
    event: string,
    extra?: Record<string, unknown>,
    signing?: WebhookSigning,
  ) {
    const body = this.webhookBody(event, call, extra);
    const response = await fetch(call.webhookUrl, {
      method: 'POST',
      headers: this.signedHeaders(body, signing),
      body,
    });
    const text = await response.text();
    this.webhooks.push({ event, url: call.webhookUrl, status: response.status });
    return { status: response.status, body: text };
  }

  private newCall(
    direction: TelnyxSimCall['direction'],
    from: string,
    to: string,
    webhookUrl: string,
  ): TelnyxSimCall {
    this.counter += 1;
    let markHandled = () => {};
    const handled = new Promise<void>((resolve) => {
      markHandled = resolve;
    });
    const call: TelnyxSimCall = {
      id: `v3:sim-${this.counter}-${crypto.randomUUID()}`,
      direction,
      from,
      to,
      webhookUrl,
      clientState: null,
      ended: false,
      answered: false,
      machineDetection: false,
      handled,
      markHandled,
    };
    this.calls.set(call.id, call);
    return call;
  }

  private async connectMedia(call: TelnyxSimCall): Promise<TelnyxMediaClient> {
    if (!call.streamUrl) throw new Error(`call ${call.id} has no stream_url`);
    const media = new TelnyxMediaClient({
      url: call.streamUrl,
      carrierCallId: call.id,
      clientState: call.clientState,
      from: call.from,
      to: call.to,
      codec: call.codec ?? 'PCMU',
      ...(this.options.swapEvery !== undefined ? { swapEvery: this.options.swapEvery } : {}),
      onCallerHangUp: () =>
        this.endCall(call, 'normal_clearing', call.direction === 'incoming' ? 'caller' : 'callee'),
    });
    call.media = media;
    await media.connect();
    return media;
  }

  private async endCall(call: TelnyxSimCall, cause: string, source: string, sip?: string): Promise<void> {
    if (call.ended) return;
    call.ended = true;
    call.media?.stop();
    await this.webhook(call, 'call.hangup', {
      hangup_cause: cause,
      hangup_source: source,
      sip_hangup_cause: sip ?? (cause === 'normal_clearing' ? '200' : 'unspecified'),
      state: 'hangup',
    });
  }

  async callIn(options: { inboundUrl: string; from: string; to: string; signature?: WebhookSigning }) {
    const call = this.newCall('incoming', options.from, options.to, options.inboundUrl);
    const { status, body } = await this.webhook(
      call,
      'call.initiated',
      { state: 'parked' },
      options.signature,
    );
    if (status < 200 || status >= 300) return { status, body };
    // Parley answers through the REST API, while or after answering the webhook.
    await Promise.race([call.handled, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    if (!call.streamUrl || call.ended) return { status, body };
    const media = await this.connectMedia(call);
    return { status, body, media: media as SimulatedMedia };
  }

  nextOutbound(timeoutMs = 5000): Promise<SimulatedOutbound> {
    const ready = this.outbound.shift();
    const toOutbound = (call: TelnyxSimCall): SimulatedOutbound => ({
      from: call.from,
      to: call.to,
      carrierCallId: call.id,
      answer: async (opts) => {
        call.answered = true;
        await this.webhook(call, 'call.answered', { state: 'answered' });
        const media = await this.connectMedia(call);
        if (call.machineDetection)
          await this.webhook(call, 'call.machine.detection.ended', {
            result: opts?.machine ? 'machine' : 'human',
          });
        return media;
      },
      fail: async (outcome) => {
        const [cause, sip] =
          outcome === 'busy'
            ? ['user_busy', '486']
            : outcome === 'no-answer'
              ? ['timeout', '480']
              : ['call_rejected', '403'];
        await this.endCall(call, cause, 'callee', sip);
      },
    });
    if (ready) return Promise.resolve(toOutbound(ready));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no outbound call within ${timeoutMs} ms`)), timeoutMs);
      this.outboundWaiters.push((call) => {
        clearTimeout(timer);
        resolve(toOutbound(call));
      });
    });
  }

  /**
   * A media socket to any URL, as Telnyx would open it (bad or reused media token tests): resolves
   * once `start` was sent; rejects when the upgrade is refused or the socket closes first.
   */
  async openMedia(url: string, carrierCallId = 'v3:sim-stray'): Promise<TelnyxMediaClient> {
    const media = new TelnyxMediaClient({ url, carrierCallId, from: '+15550100001', to: '+15550100002' });
    await media.connect();
    return media;
  }

  /** The simulated call with this id (for assertions). */
  call(id: string): Readonly<TelnyxSimCall> | undefined {
    return this.calls.get(id);
  }

  // ---- the fake REST API --------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return telnyxError(res, 400, '10015', 'Bad Request', 'The request body is not JSON');
    }
    const action = /^\/v2\/calls\/[^/]+\/actions\/([a-z_]+)$/.exec(path)?.[1];
    const kind: RestRequest['action'] =
      path === '/v2/calls'
        ? 'create-call'
        : action === 'hangup' || action === 'transfer' || action === 'answer'
          ? action
          : action === 'send_dtmf'
            ? 'dtmf'
            : 'other';
    this.restLog.push({ method: req.method ?? '', path, body, action: kind });
    if (req.headers.authorization !== `Bearer ${this.credentials.apiKey}`)
      return telnyxError(res, 401, '10009', 'Authentication failed', 'The API key is missing or wrong');
    if (req.method !== 'POST') return telnyxError(res, 405, '10015', 'Method not allowed', path);
    if (path === '/v2/calls') return this.dial(body, res);
    const match = /^\/v2\/calls\/([^/]+)\/actions\/([a-z_]+)$/.exec(path);
    const call = match ? this.calls.get(decodeURIComponent(match[1] ?? '')) : undefined;
    if (!match || !call) return telnyxError(res, 404, '10005', 'Resource not found', path);
    if (call.ended)
      return telnyxError(res, 422, '90018', 'Call has already ended', 'This call is no longer active');
    return this.command(call, match[2] ?? '', body, res);
  }

  private dial(body: Record<string, unknown>, res: ServerResponse): boolean {
    const str = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : undefined);
    const to = str('to');
    const from = str('from');
    const webhookUrl = str('webhook_url');
    if (str('connection_id') !== this.credentials.connectionId)
      return telnyxError(res, 422, '10015', 'Invalid connection_id', 'connection_id does not match');
    if (!to || !from || !webhookUrl)
      return telnyxError(res, 422, '10015', 'Missing parameter', 'to, from, webhook_url');
    const call = this.newCall('outgoing', from, to, webhookUrl);
    call.clientState = str('client_state') ?? null;
    call.machineDetection = body.answering_machine_detection !== undefined;
    const streamUrl = str('stream_url');
    if (streamUrl) call.streamUrl = streamUrl;
    call.codec = str('stream_bidirectional_codec') === 'L16' ? 'L16' : 'PCMU';
    json(res, 200, {
      data: {
        call_control_id: call.id,
        call_leg_id: `leg-${call.id}`,
        call_session_id: `session-${call.id}`,
        is_alive: false,
        record_type: 'call',
      },
    });
    void this.webhook(call, 'call.initiated', { state: 'bridging' })
      .catch(() => undefined)
      .then(() => {
        const waiter = this.outboundWaiters.shift();
        if (waiter) waiter(call);
        else this.outbound.push(call);
      });
    return true;
  }

  private command(
    call: TelnyxSimCall,
    action: string,
    body: Record<string, unknown>,
    res: ServerResponse,
  ): boolean {
    const ok = () => json(res, 200, { data: { result: 'ok' } });
    if (typeof body.webhook_url === 'string') call.webhookUrl = body.webhook_url;
    if (typeof body.client_state === 'string') call.clientState = body.client_state;
    switch (action) {
      case 'answer': {
        if (call.answered) return telnyxError(res, 422, '90061', 'Call already answered', call.id);
        call.answered = true;
        if (typeof body.stream_url === 'string') {
          call.streamUrl = body.stream_url;
          call.codec = body.stream_bidirectional_codec === 'L16' ? 'L16' : 'PCMU';
        }
        ok();
        call.markHandled();
        void this.webhook(call, 'call.answered', { state: 'answered' }).catch(() => undefined);
        return true;
      }
      case 'hangup':
      case 'reject':
        ok();
        call.markHandled();
        void this.endCall(call, action === 'reject' ? 'call_rejected' : 'normal_clearing', 'callee').catch(
          () => undefined,
        );
        return true;
      case 'transfer':
        if (this.options.rejectTransfers)
          return telnyxError(res, 422, '90034', 'Transfer failed', `${String(body.to)} did not answer`);
        if (typeof body.to !== 'string' || !/^(\+[1-9][0-9]{1,14}|sips?:.+)$/.test(body.to))
          return telnyxError(res, 422, '10015', 'Invalid to', 'to must be E.164 or a SIP URI');
        ok();
        call.markHandled();
        call.media?.stop(); // the caller is bridged elsewhere: the stream ends
        return true;
      case 'send_dtmf':
        if (typeof body.digits !== 'string' || !/^[0-9*#A-DwW]+$/.test(body.digits))
          return telnyxError(res, 422, '10015', 'Invalid digits', String(body.digits));
        return ok();
      case 'streaming_stop':
        call.media?.stop();
        return ok();
      default:
        return ok();
    }
  }
}

export function createTelnyxSimulator(options?: TelnyxSimulatorOptions): TelnyxSimulator {
  return new TelnyxSimulator(options);
}
