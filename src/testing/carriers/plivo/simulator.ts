/**
 * Plivo, played for tests (../simulator.ts `CarrierSimulator`): a fake Plivo REST API on
 * 127.0.0.1 (make / hang up / cancel / transfer / DTMF, with Plivo's paths, Basic auth, status
 * codes and `request_uuid` ≠ `CallUUID`), signed webhooks (./webhooks.ts), and the media stream
 * (./media-client.ts). Outbound calls go as Plivo's do: ring callback to `ring_url`, then the
 * answer URL is fetched and its `<Stream>` opened; outcomes end with the hangup callback
 * (`CallStatus` busy / no-answer / failed / completed, `HangupCause`). A transfer fetches
 * `aleg_url`, expects `<Dial>`, and ends the stream (`stop`, close).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CarrierSimulator, RestRequest, SimulatedMedia, SimulatedOutbound } from '../simulator.js';
import { PlivoMediaClient } from './media-client.js';
import { type PlivoXml, postSigned, readPlivoXml, type SignatureMode } from './webhooks.js';

export interface PlivoSimulatorOptions {
  authId?: string;
  authToken?: string;
  /** Echo pending checkpoints on clearAudio (default true, the hostile case). */
  echoMarksOnClear?: boolean;
  /** Sign the media upgrade (default true). */
  signUpgrade?: boolean;
  /** Transfers (`legs=aleg`) answer 400 and leave the call and its stream as they were. */
  rejectTransfers?: boolean;
}

export interface SimCall {
  callUuid: string;
  requestUuid?: string;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
  state: 'ringing' | 'live' | 'ended';
  answerUrl?: string;
  hangupUrl?: string;
  ringUrl?: string;
  machineUrl?: string;
  media?: PlivoMediaClient;
  /** The `<Stream>` URL Parley answered with. */
  streamUrl?: string;
  /** `<Dial>`s fetched from transfers' `aleg_url`s. */
  transfers: PlivoXml[];
  dtmfSent: string[];
}

const json = (res: ServerResponse, status: number, body?: object) => {
  res.writeHead(status, body ? { 'content-type': 'application/json' } : {});
  res.end(body ? JSON.stringify(body) : undefined);
};

export class PlivoSimulator implements CarrierSimulator {
  readonly carrier = 'plivo' as const;
  readonly credentials: Record<string, string>;
  readonly restLog: RestRequest[] = [];
  readonly calls = new Map<string, SimCall>();
  private server: Server | undefined;
  private base = '';
  private readonly outbound: SimulatedOutbound[] = [];
  private readonly outboundWaiters: ((call: SimulatedOutbound) => void)[] = [];
  private readonly restWaiters: { match: (r: RestRequest) => boolean; resolve: (r: RestRequest) => void }[] =
    [];
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly options: PlivoSimulatorOptions = {}) {
    this.credentials = {
      authId: options.authId ?? 'MAZDQ1ZJIYMDZKMTZLMZ',
      authToken: options.authToken ?? 'simulated-plivo-auth-token-0123456789',
    };
  }

  get apiBaseUrl(): string {
    return this.base;
  }

  private get authId(): string {
    return this.credentials.authId ?? '';
  }

  private get authToken(): string {
    return this.credentials.authToken ?? '';
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const call of this.calls.values()) call.media?.close();
    await Promise.allSettled([...this.pending]);
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Resolves with the first REST request (already received or next) that matches. */
  waitForRest(match: (r: RestRequest) => boolean, timeoutMs = 5000): Promise<RestRequest> {
    const found = this.restLog.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching Plivo REST request')), timeoutMs);
      this.restWaiters.push({
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.then(
      () => this.pending.delete(promise),
      () => this.pending.delete(promise),
    );
    return promise;
  }

  private log(entry: RestRequest): void {
    this.restLog.push(entry);
    for (const waiter of [...this.restWaiters]) {
      if (waiter.match(entry)) {
        this.restWaiters.splice(this.restWaiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    }
  }

  // ---- the REST API ------------------------------------------------------------------------
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // Kept as text: Plivo takes JSON; a form body is a bug the log shows.
    }
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', this.base).pathname;
    const prefix = `/v1/Account/${this.authId}/`;
    const expected = `Basic ${Buffer.from(`${this.authId}:${this.authToken}`).toString('base64')}`;
    const rest = path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
    const route =
      rest === undefined
        ? undefined
        : method === 'POST' && rest === 'Call/'
          ? ({ action: 'create-call' } as const)
          : method === 'DELETE' && /^Call\/[^/]+\/$/.test(rest)
            ? ({ action: 'hangup', id: rest.slice(5, -1) } as const)
            : method === 'DELETE' && /^Request\/[^/]+\/$/.test(rest)
              ? ({ action: 'hangup', id: rest.slice(8, -1), queued: true } as const)
              : method === 'POST' && /^Call\/[^/]+\/DTMF\/$/.test(rest)
                ? ({ action: 'dtmf', id: rest.slice(5, -6) } as const)
                : method === 'POST' && /^Call\/[^/]+\/$/.test(rest)
                  ? ({ action: 'transfer', id: rest.slice(5, -1) } as const)
                  : undefined;
    this.log({ method, path, body, action: route?.action ?? 'other' });
    if (req.headers.authorization !== expected)
      return json(res, 401, { api_id: randomUUID(), error: 'authentication failed' });
    if (!route) return json(res, 404, { api_id: randomUUID(), error: 'not found' });
    if (route.action === 'create-call') return this.createCall(body, res);
    // Plivo keeps the two ids apart: live-call paths take the CallUUID, `Request/` the request_uuid.
    const found = this.calls.get(route.id);
    const byRequest = 'queued' in route;
    const call = found && (byRequest ? found.requestUuid : found.callUuid) === route.id ? found : undefined;
    const fields = (body ?? {}) as Record<string, unknown>;
    if (route.action === 'hangup') {
      if (!call || call.state === 'ended' || (byRequest ? call.state !== 'ringing' : call.state !== 'live'))
        return json(res, 404, { api_id: randomUUID(), error: 'not found' });
      json(res, 204);
      this.track(
        this.endCall(
          call,
          byRequest ? 'cancel' : 'completed',
          byRequest ? 'ORIGINATOR_CANCEL' : 'NORMAL_CLEARING',
        ),
      );
      return;
    }
    if (call?.state !== 'live') return json(res, 404, { api_id: randomUUID(), error: 'not found' });
    if (route.action === 'dtmf') {
      if (typeof fields.digits !== 'string' || !/^[0-9*#A-Dw]+$/.test(fields.digits))
        return json(res, 400, { api_id: randomUUID(), error: 'invalid digits' });
      call.dtmfSent.push(fields.digits);
      return json(res, 202, { api_id: randomUUID(), message: 'digits sent' });
    }
    if (fields.legs !== 'aleg' || typeof fields.aleg_url !== 'string')
      return json(res, 400, { api_id: randomUUID(), error: 'legs and aleg_url are required' });
    if (this.options.rejectTransfers)
      return json(res, 400, { api_id: randomUUID(), error: 'the transfer could not be done' });
    json(res, 202, { api_id: randomUUID(), message: 'call transferred' });
    this.track(this.runTransfer(call, fields.aleg_url));
  }

  private createCall(body: unknown, res: ServerResponse): void {
    const b = (body ?? {}) as Record<string, unknown>;
    const missing = ['from', 'to', 'answer_url'].find((k) => typeof b[k] !== 'string' || b[k] === '');
    if (missing) {
      json(res, 400, { api_id: randomUUID(), error: `${missing} is required` });
      return;
    }
    const call: SimCall = {
      callUuid: randomUUID(),
      requestUuid: randomUUID(),
      direction: 'outbound',
      from: String(b.from),
      to: String(b.to),
      state: 'ringing',
      answerUrl: String(b.answer_url),
      ...(typeof b.hangup_url === 'string' ? { hangupUrl: b.hangup_url } : {}),
      ...(typeof b.ring_url === 'string' ? { ringUrl: b.ring_url } : {}),
      ...(typeof b.machine_detection_url === 'string' ? { machineUrl: b.machine_detection_url } : {}),
      transfers: [],
      dtmfSent: [],
    };
    this.calls.set(call.callUuid, call);
    if (call.requestUuid) this.calls.set(call.requestUuid, call);
    json(res, 201, { api_id: randomUUID(), message: 'call fired', request_uuid: call.requestUuid });
    const outbound = this.outboundHandle(call);
    const waiter = this.outboundWaiters.shift();
    if (waiter) waiter(outbound);
    else this.outbound.push(outbound);
  }

  // ---- calls -------------------------------------------------------------------------------
  private params(call: SimCall, extra: Record<string, string>): Record<string, string> {
    return {
      CallUUID: call.callUuid,
      ...(call.requestUuid ? { RequestUUID: call.requestUuid } : {}),
      From: call.from,
      To: call.to,
      Direction: call.direction,
      ...extra,
    };
  }

  private async endCall(call: SimCall, status: string, cause: string, causeName = cause): Promise<void> {
    if (call.state === 'ended') return;
    call.state = 'ended';
    call.media?.endStream();
    if (call.media) await call.media.closed;
    if (call.hangupUrl)
      await postSigned(
        call.hangupUrl,
        this.params(call, {
          CallStatus: status,
          Event: 'Hangup',
          HangupCause: cause,
          HangupCauseName: causeName,
        }),
        this.authToken,
      );
  }

  private async runTransfer(call: SimCall, alegUrl: string): Promise<void> {
    const answer = await postSigned(
      alegUrl,
      this.params(call, { CallStatus: 'in-progress', Event: 'Transfer' }),
      this.authToken,
    );
    call.transfers.push(
      answer.status === 200 ? readPlivoXml(answer.body) : { kind: 'other', body: `${answer.status}` },
    );
    // The A leg now runs the new XML: the stream ends as on any transfer.
    call.media?.endStream();
  }

  /**
   * Opens the `<Stream>` of an answer. A refused upgrade still gives the media (its `closed`
   * says how it was refused), so token tests can look at it.
   */
  private async openStream(call: SimCall, xml: PlivoXml): Promise<PlivoMediaClient | undefined> {
    if (xml.kind !== 'stream') return undefined;
    call.hangupUrl ??= xml.attributes.statusCallbackUrl;
    call.streamUrl = xml.url;
    return this.connect(call, xml.url);
  }

  /** Opens the call's stream URL again (a replayed media token must be refused). */
  replayStream(carrierCallId: string): Promise<PlivoMediaClient> {
    const call = this.calls.get(carrierCallId);
    if (!call?.streamUrl) throw new Error(`no stream was opened for ${carrierCallId}`);
    return this.connect(call, call.streamUrl, false);
  }

  private async connect(call: SimCall, url: string, attach = true): Promise<PlivoMediaClient> {
    const media = new PlivoMediaClient({
      url,
      carrierCallId: call.callUuid,
      accountId: this.authId,
      ...(this.options.signUpgrade === false ? {} : { authToken: this.authToken }),
      ...(this.options.echoMarksOnClear === undefined
        ? {}
        : { echoMarksOnClear: this.options.echoMarksOnClear }),
      onCallerHangUp: () => this.endCall(call, 'completed', 'NORMAL_CLEARING', 'Normal Hangup'),
    });
    if (attach) call.media = media;
    await media.ready;
    return media;
  }

  async callIn(options: {
    inboundUrl: string;
    from: string;
    to: string;
    signature?: SignatureMode;
    /** The number's Hangup URL (default: the `<Stream>`'s status callback URL). */
    hangupUrl?: string;
  }): Promise<{ status: number; body: string; media?: SimulatedMedia }> {
    const call: SimCall = {
      callUuid: randomUUID(),
      direction: 'inbound',
      from: options.from.replace(/^\+/, ''),
      to: options.to.replace(/^\+/, ''),
      state: 'ringing',
      ...(options.hangupUrl ? { hangupUrl: options.hangupUrl } : {}),
      transfers: [],
      dtmfSent: [],
    };
    this.calls.set(call.callUuid, call);
    const reply = await postSigned(
      options.inboundUrl,
      this.params(call, {
        CallStatus: 'ringing',
        Event: 'StartApp',
        CallerName: call.from,
        BillRate: '0.0085',
      }),
      this.authToken,
      options.signature,
    );
    if (reply.status !== 200) {
      call.state = 'ended';
      return reply;
    }
    call.state = 'live';
    const xml = readPlivoXml(reply.body);
    if (xml.kind === 'dial') call.transfers.push(xml);
    const media = await this.openStream(call, xml);
    return { ...reply, ...(media ? { media } : {}) };
  }

  nextOutbound(timeoutMs = 5000): Promise<SimulatedOutbound> {
    const ready = this.outbound.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no outbound Plivo call')), timeoutMs);
      this.outboundWaiters.push((call) => {
        clearTimeout(timer);
        resolve(call);
      });
    });
  }

  private outboundHandle(call: SimCall): SimulatedOutbound {
    const ring = async () => {
      if (call.ringUrl)
        await postSigned(
          call.ringUrl,
          this.params(call, { CallStatus: 'ringing', Event: 'Ring' }),
          this.authToken,
        );
    };
    return {
      from: call.from,
      to: call.to,
      carrierCallId: call.requestUuid ?? call.callUuid,
      answer: async (options) => {
        await ring();
        call.state = 'live';
        const answerUrl = call.answerUrl ?? '';
        const reply = await postSigned(
          answerUrl,
          this.params(call, { CallStatus: 'in-progress', Event: 'StartApp' }),
          this.authToken,
        );
        const media =
          reply.status === 200 ? await this.openStream(call, readPlivoXml(reply.body)) : undefined;
        if (!media)
          throw new Error(`the answer URL gave no <Stream> (${reply.status}: ${reply.body.slice(0, 200)})`);
        if (call.machineUrl)
          await postSigned(
            call.machineUrl,
            this.params(call, { CallStatus: 'in-progress', Machine: options?.machine ? 'true' : 'false' }),
            this.authToken,
          );
        return media;
      },
      fail: async (outcome) => {
        if (outcome === 'no-answer') await ring();
        if (outcome === 'busy') await this.endCall(call, 'busy', 'USER_BUSY', 'Busy Line');
        else if (outcome === 'no-answer') await this.endCall(call, 'no-answer', 'NO_ANSWER', 'No Answer');
        else await this.endCall(call, 'failed', 'UNALLOCATED_NUMBER', 'Invalid Destination Address');
      },
    };
  }
}

export function createPlivoSimulator(options?: PlivoSimulatorOptions): PlivoSimulator {
  return new PlivoSimulator(options);
}
