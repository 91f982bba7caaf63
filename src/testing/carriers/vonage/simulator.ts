// Vonage played for tests (CarrierSimulator): the answer webhook signed like Vonage's signed
// webhooks (valid, wrong secret, or stale), the NCCO it returns followed to the media WebSocket
// (media-client.ts), event webhooks `{status, uuid, …}` signed the same way, and a fake Voice
// REST API on 127.0.0.1 (fake-api.ts) that checks the application's RS256 JWT on every call. The
// number's credentials: a new application id and signature secret per simulator, and an RSA key
// pair (one per process, or per simulator with `freshKey`).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toE164 } from '../../../transports/phone/vonage/wire.js';
import type { CarrierSimulator, SimulatedMedia, SimulatedOutbound } from '../simulator.js';
import {
  type CreateCallBody,
  type FakeApiHost,
  handleRest,
  type SimCallRecord,
  type SimCallStatus,
  type VonageRestRequest,
} from './fake-api.js';
import { VonageMediaClient } from './media-client.js';
import { generateVonageKeys, type SignatureMode, type VonageKeys, webhookAuthorization } from './signing.js';

export interface VonageSimulatorOptions {
  /** Echo pending notifies when Parley clears (default true: the server must ignore them). */
  returnMarksOnClear?: boolean;
  /** Generate an RSA key pair for this simulator (default: one per process, new ids and secret). */
  freshKey?: boolean;
  /** Transfers answer 400 and leave the call as it was (`transferOutcome: 'rejected'`). */
  rejectTransfers?: boolean;
}

interface SimCall extends SimCallRecord {
  conversationUuid: string;
  direction: 'inbound' | 'outbound';
  /** Vonage's number format: E.164 digits without `+`. */
  from: string;
  to: string;
  eventUrl: string | undefined;
  ncco: unknown[] | undefined;
  answerUrl: string | undefined;
  machineDetection: boolean;
  media: VonageMediaClient | undefined;
  /** Events go out one after another. */
  events: Promise<void>;
}

export interface SentEvent {
  url: string;
  body: Record<string, unknown>;
  /** Parley's answer (0 when the request failed). */
  status: number;
}

const digits = (number: string) => number.replace(/^\+/, '');

/** The number's event URL from its answer URL (`…/inbound` → `…/status`, telephony.md §5 routes). */
export function statusUrlFor(inboundUrl: string): string | undefined {
  const url = new URL(inboundUrl);
  if (!/\/inbound$/.test(url.pathname)) return undefined;
  url.pathname = url.pathname.replace(/\/inbound$/, '/status');
  return url.toString();
}

function websocketEndpoint(
  ncco: unknown,
): { uri: string; contentType: string; headers: Record<string, unknown> } | undefined {
  if (!Array.isArray(ncco)) return undefined;
  for (const action of ncco as { action?: unknown; endpoint?: unknown }[]) {
    if (action?.action !== 'connect' || !Array.isArray(action.endpoint)) continue;
    const endpoint = action.endpoint[0] as Record<string, unknown> | undefined;
    if (endpoint?.type === 'websocket' && typeof endpoint.uri === 'string') {
      return {
        uri: endpoint.uri,
        contentType:
          typeof endpoint['content-type'] === 'string' ? endpoint['content-type'] : 'audio/l16;rate=16000',
        headers: (endpoint.headers as Record<string, unknown> | undefined) ?? {},
      };
    }
  }
  return undefined;
}

export class VonageSimulator implements CarrierSimulator, FakeApiHost {
  readonly carrier = 'vonage' as const;
  readonly keys: VonageKeys;
  readonly credentials: Record<string, string>;
  readonly restLog: VonageRestRequest[] = [];
  /** Every event webhook sent, in order. */
  readonly events: SentEvent[] = [];
  transferOutcome: 'ok' | 'rejected' = 'ok';
  private readonly calls = new Map<string, SimCall>();
  private readonly outbound: SimulatedOutbound[] = [];
  private readonly outboundWaiters: ((call: SimulatedOutbound) => void)[] = [];
  private server: Server | undefined;
  private baseUrl = '';

  constructor(private readonly options: VonageSimulatorOptions = {}) {
    if (options.rejectTransfers) this.transferOutcome = 'rejected';
    this.keys = generateVonageKeys({ freshKey: options.freshKey ?? false });
    this.credentials = {
      applicationId: this.keys.applicationId,
      privateKey: this.keys.privateKeyPem,
      signatureSecret: this.keys.signatureSecret,
    };
  }

  get apiBaseUrl(): string {
    if (!this.baseUrl) throw new Error('VonageSimulator: start() first');
    return this.baseUrl;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      handleRest(this, req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const call of this.calls.values()) call.media?.end('simulator closed');
    await Promise.all([...this.calls.values()].map((c) => c.events));
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  call(uuid: string): SimCall | undefined {
    return this.calls.get(uuid);
  }

  // ---- webhooks --------------------------------------------------------------------------------
  private async post(url: string, body: Record<string, unknown>, mode: SignatureMode = 'valid') {
    const text = JSON.stringify(body);
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: webhookAuthorization(this.keys, text, mode),
      },
      body: text,
    });
    return { status: response.status, body: await response.text() };
  }

  /**
   * Queues a signed event webhook for `call` (sent after the ones before it); `status` undefined
   * for events without one (`transfer`: `{conversation_uuid_from, conversation_uuid_to, uuid}`).
   */
  private event(
    call: SimCall,
    status: string | undefined,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const url = call.eventUrl;
    call.events = call.events.then(async () => {
      if (!url) return;
      const body = {
        ...(status
          ? {
              from: call.from,
              to: call.to,
              conversation_uuid: call.conversationUuid,
              status,
              direction: call.direction,
            }
          : {}),
        uuid: call.uuid,
        timestamp: new Date().toISOString(),
        ...extra,
      };
      const sent: SentEvent = { url, body, status: 0 };
      this.events.push(sent);
      try {
        sent.status = (await this.post(url, body)).status;
      } catch {
        // Parley is down: Vonage would retry; the test sees status 0.
      }
    });
    return call.events;
  }

  private newCall(direction: 'inbound' | 'outbound', from: string, to: string, eventUrl?: string): SimCall {
    const uuid = randomUUID();
    const call: SimCall = {
      uuid,
      conversationUuid: `CON-${randomUUID()}`,
      direction,
      from: digits(from),
      to: digits(to),
      eventUrl,
      status: 'started',
      ncco: undefined,
      answerUrl: undefined,
      machineDetection: false,
      media: undefined,
      events: Promise.resolve(),
      transfers: [],
      dtmfSent: [],
    };
    this.calls.set(uuid, call);
    return call;
  }

  private finish(call: SimCall, status: SimCallStatus): Promise<void> {
    if (
      call.status === status ||
      ['completed', 'busy', 'timeout', 'failed', 'cancelled'].includes(call.status)
    )
      return call.events;
    call.status = status;
    return this.event(call, status, status === 'completed' ? { end_time: new Date().toISOString() } : {});
  }

  /** Connects the NCCO's websocket endpoint; the call completes when that leg ends. */
  private async connectMedia(call: SimCall, ncco: unknown): Promise<SimulatedMedia | undefined> {
    const endpoint = websocketEndpoint(ncco);
    if (!endpoint) return undefined;
    const media = await VonageMediaClient.connect({
      uri: endpoint.uri,
      carrierCallId: call.uuid,
      contentType: endpoint.contentType,
      headers: endpoint.headers,
      returnMarksOnClear: this.options.returnMarksOnClear ?? true,
      onHangUp: () => this.finish(call, 'completed'),
    });
    call.media = media;
    // The NCCO ends with the websocket leg (unless the phone leg was transferred away).
    void media.closed.then(() => {
      if (call.transfers.length === 0) void this.finish(call, 'completed');
    });
    return media;
  }

  async callIn(options: {
    inboundUrl: string;
    from: string;
    to: string;
    signature?: SignatureMode;
    /** The application's event URL (default: the inbound URL with `/inbound` → `/status`). */
    statusUrl?: string;
  }): Promise<{ status: number; body: string; media?: SimulatedMedia }> {
    const call = this.newCall(
      'inbound',
      options.from,
      options.to,
      options.statusUrl ?? statusUrlFor(options.inboundUrl),
    );
    const answer = await this.post(
      options.inboundUrl,
      {
        to: call.to,
        from: call.from,
        uuid: call.uuid,
        conversation_uuid: call.conversationUuid,
        region_url: 'https://api-us-3.vonage.com',
      },
      options.signature,
    );
    if (answer.status !== 200) {
      this.calls.delete(call.uuid);
      return answer;
    }
    let ncco: unknown;
    try {
      ncco = JSON.parse(answer.body);
    } catch {
      ncco = undefined;
    }
    call.ncco = Array.isArray(ncco) ? ncco : undefined;
    call.status = 'answered';
    await this.event(call, 'started');
    await this.event(call, 'ringing');
    await this.event(call, 'answered', { start_time: new Date().toISOString() });
    const media = await this.connectMedia(call, ncco);
    if (!media && !call.ncco?.some((a) => (a as { action?: unknown }).action === 'connect')) {
      // A talk-only NCCO (Parley refused the call): Vonage speaks it and hangs up.
      await this.finish(call, 'completed');
    }
    return media ? { ...answer, media } : answer;
  }

  // ---- FakeApiHost -----------------------------------------------------------------------------
  createOutbound(body: CreateCallBody): SimCallRecord {
    const to = body.to[0]?.number ?? '';
    const call = this.newCall('outbound', body.from.number, to, body.event_url?.[0]);
    call.ncco = body.ncco;
    call.answerUrl = body.answer_url?.[0];
    call.machineDetection = body.machine_detection !== undefined;
    void this.event(call, 'started');
    const simulated: SimulatedOutbound = {
      from: toE164(call.from),
      to: toE164(call.to),
      carrierCallId: call.uuid,
      answer: (opts) => this.answerOutbound(call, opts?.machine ?? false),
      fail: async (outcome) => {
        await this.event(call, 'ringing');
        await this.finish(call, outcome === 'busy' ? 'busy' : outcome === 'no-answer' ? 'timeout' : 'failed');
      },
    };
    const waiter = this.outboundWaiters.shift();
    if (waiter) waiter(simulated);
    else this.outbound.push(simulated);
    return call;
  }

  private async answerOutbound(call: SimCall, machine: boolean): Promise<SimulatedMedia> {
    await this.event(call, 'ringing');
    call.status = 'answered';
    await this.event(call, 'answered', { start_time: new Date().toISOString() });
    if (call.machineDetection) await this.event(call, machine ? 'machine' : 'human');
    let ncco: unknown = call.ncco;
    if (!ncco && call.answerUrl) {
      const url = new URL(call.answerUrl);
      for (const [k, v] of Object.entries({
        to: call.to,
        from: call.from,
        uuid: call.uuid,
        conversation_uuid: call.conversationUuid,
      }))
        url.searchParams.set(k, v);
      const response = await fetch(url, { headers: { authorization: webhookAuthorization(this.keys, '') } });
      ncco = await response.json();
    }
    const media = await this.connectMedia(call, ncco);
    if (!media) throw new Error('the outbound call NCCO has no websocket endpoint');
    return media;
  }

  hangUpCall(call: SimCallRecord): void {
    const sim = this.calls.get(call.uuid);
    if (!sim) return;
    sim.media?.end('call hung up');
    void this.finish(sim, 'completed');
  }

  transferCall(call: SimCallRecord): void {
    const sim = this.calls.get(call.uuid);
    if (!sim) return;
    // The phone leg leaves the conversation: the websocket leg is closed.
    sim.media?.end('transferred');
    void this.event(sim, undefined, {
      conversation_uuid_from: sim.conversationUuid,
      conversation_uuid_to: `CON-${randomUUID()}`,
    });
  }

  nextOutbound(timeoutMs = 5000): Promise<SimulatedOutbound> {
    const ready = this.outbound.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.outboundWaiters.indexOf(waiter);
        if (i >= 0) this.outboundWaiters.splice(i, 1);
        reject(new Error(`no outbound Vonage call within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (call: SimulatedOutbound) => {
        clearTimeout(timer);
        resolve(call);
      };
      this.outboundWaiters.push(waiter);
    });
  }
}

export function createVonageSimulator(options?: VonageSimulatorOptions): VonageSimulator {
  return new VonageSimulator(options);
}
