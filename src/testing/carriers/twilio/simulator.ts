/**
 * Twilio, played for tests (telephony.md §1.1 and §5): a fake REST API on 127.0.0.1 (create a
 * call, update it with `Status=completed` or `Twiml=<Dial>`, Basic auth, Twilio's JSON errors),
 * signed webhooks (inbound call, status callbacks with `CallStatus, CallDuration, AnsweredBy`,
 * async AMD, `<Stream statusCallback>` events, the `<Connect action>` fetch when Parley closes
 * the stream) and the media stream client of `media-client.ts`. Stream URLs lose their query
 * string, as at Twilio. Twilio has no REST DTMF: digits Parley sends are heard in-band
 * (`TwilioMediaClient.heardDigits()`).
 */
import type { Server } from 'node:http';
import type { CarrierSimulator, RestRequest, SimulatedOutbound } from '../simulator.js';
import { type RestAnswer, restError, startTwilioRest } from './fake-rest.js';
import { TwilioMediaClient, twilioSid } from './media-client.js';
import { type ReadTwiml, readTwiml } from './twiml-read.js';
import { callParams, TwilioWebhookClient } from './webhook-client.js';

type Terminal = 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

export interface SimulatedTwilioCall {
  readonly callSid: string;
  readonly from: string;
  readonly to: string;
  readonly direction: 'inbound' | 'outbound-api';
  status: 'queued' | 'initiated' | 'ringing' | 'in-progress' | Terminal;
  statusCallback?: string;
  statusEvents: Set<string>;
  amd?: { async: boolean; callback?: string };
  twiml?: string;
  url?: string;
  answeredAt?: number;
  sequence: number;
  media?: TwilioMediaClient;
  stream?: NonNullable<ReadTwiml['stream']>;
  /** The `<Dial>` Parley forwarded the call to (REST `Twiml`, or the `<Connect action>` answer). */
  dialed?: NonNullable<ReadTwiml['dial']>;
  /** Initiated/ringing callbacks of an outbound call, in flight. */
  progress: Promise<void>;
}

export interface TwilioSimulatorOptions {
  accountSid?: string;
  authToken?: string;
  /**
   * A live-call update that forwards (`Twiml` with `<Dial>`) answers 400 (Twilio's 13223, the
   * dial target refused) and leaves the call and its stream as they were.
   */
  rejectTransfers?: boolean;
  /** Media clients: keep messages and heard audio (default true), and a tap on every message. */
  media?: { retain?: boolean; onMessage?(callSid: string, event: string, atMs: number): void };
}

const SIP_CODES: Readonly<Record<string, string>> = { busy: '486', 'no-answer': '487', failed: '404' };
const E164 = /^\+[1-9][0-9]{1,14}$/;

export class TwilioSimulator implements CarrierSimulator {
  readonly carrier = 'twilio' as const;
  readonly credentials: Record<string, string>;
  readonly restLog: RestRequest[] = [];
  readonly calls = new Map<string, SimulatedTwilioCall>();
  readonly webhooks: TwilioWebhookClient;
  #server: Server | undefined;
  #base = '';
  #outbound: SimulatedOutbound[] = [];
  #waiters: ((call: SimulatedOutbound) => void)[] = [];
  #pending = new Set<Promise<unknown>>();
  readonly #rejectTransfers: boolean;
  readonly #media: TwilioSimulatorOptions['media'];

  constructor(options: TwilioSimulatorOptions = {}) {
    this.#rejectTransfers = options.rejectTransfers ?? false;
    this.#media = options.media;
    this.credentials = {
      accountSid: options.accountSid ?? twilioSid('AC'),
      authToken: options.authToken ?? twilioSid('').slice(0, 32),
    };
    this.webhooks = new TwilioWebhookClient(this.#authToken);
  }

  get #accountSid(): string {
    return this.credentials.accountSid as string;
  }
  get #authToken(): string {
    return this.credentials.authToken as string;
  }
  get apiBaseUrl(): string {
    if (!this.#base) throw new Error('the Twilio simulator is not started');
    return this.#base;
  }

  async start(): Promise<void> {
    const { server, baseUrl } = await startTwilioRest({
      accountSid: this.#accountSid,
      authToken: this.#authToken,
      log: this.restLog,
      createCall: (form) => this.#createCall(form),
      updateCall: (callSid, form) => this.#updateCall(callSid, form),
    });
    this.#server = server;
    this.#base = baseUrl;
  }

  async close(): Promise<void> {
    for (const call of this.calls.values()) call.media?.stop('carrier');
    await this.settled();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits for every webhook the simulator has in flight. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work)).catch(() => {});
    return work;
  }

  // ---------------------------------------------------------------- inbound
  async callIn(options: {
    inboundUrl: string;
    from: string;
    to: string;
    signature?: 'valid' | 'bad' | 'stale';
    /**
     * The number's "Call status changes" URL, for the call's status callbacks; without it the
     * `<Stream statusCallback>` URL stands in (a console set up as `carrierSetup` says).
     */
    statusUrl?: string;
    /** How the media upgrade is signed. */
    mediaSignature?: 'valid' | 'bad' | 'none';
  }) {
    const call = this.#newCall({ from: options.from, to: options.to, direction: 'inbound' });
    call.status = 'ringing';
    if (options.statusUrl) call.statusCallback = options.statusUrl;
    const params = callParams({ ...call, accountSid: this.#accountSid, status: 'ringing' });
    const answer = await this.webhooks.post(options.inboundUrl, params, options.signature ?? 'valid');
    if (answer.status !== 200) {
      call.status = 'failed';
      return { status: answer.status, body: answer.body };
    }
    call.status = 'in-progress';
    call.answeredAt = Date.now();
    const media = await this.#execute(call, answer.body, options.mediaSignature);
    return { status: answer.status, body: answer.body, ...(media ? { media } : {}) };
  }

  nextOutbound(timeoutMs = 5000): Promise<SimulatedOutbound> {
    const ready = this.#outbound.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(new Error(`no outbound call within ${timeoutMs} ms`));
      }, timeoutMs);
      const wake = (call: SimulatedOutbound) => {
        clearTimeout(timer);
        resolve(call);
      };
      this.#waiters.push(wake);
    });
  }

  /** Connects a second media client to a call's stream URL (reused-token tests). */
  async replayStream(
    callSid: string,
    signature: 'valid' | 'bad' | 'none' = 'valid',
  ): Promise<TwilioMediaClient> {
    const call = this.calls.get(callSid);
    if (!call?.stream) throw new Error(`call ${callSid} has no stream`);
    const client = new TwilioMediaClient({
      url: call.stream.url,
      authToken: this.#authToken,
      accountSid: this.#accountSid,
      callSid,
      parameters: call.stream.parameters,
    });
    await client.connect(signature);
    return client;
  }

  #newCall(init: { from: string; to: string; direction: 'inbound' | 'outbound-api' }): SimulatedTwilioCall {
    const call: SimulatedTwilioCall = {
      callSid: twilioSid('CA'),
      ...init,
      status: 'queued',
      statusEvents: new Set(['completed']),
      sequence: 0,
      progress: Promise.resolve(),
    };
    this.calls.set(call.callSid, call);
    return call;
  }

  // ---------------------------------------------------------------- TwiML and media
  /** Runs a TwiML document for a live call: opens its stream, or forwards, or ends the call. */
  async #execute(
    call: SimulatedTwilioCall,
    xml: string,
    signature: 'valid' | 'bad' | 'none' = 'valid',
  ): Promise<TwilioMediaClient | undefined> {
    const twiml = readTwiml(xml);
    if (!twiml.stream) {
      if (twiml.dial) call.dialed = twiml.dial;
      else await this.#end(call, 'completed');
      return undefined;
    }
    const stream = twiml.stream;
    call.stream = stream;
    if (call.direction === 'inbound' && !call.statusCallback && stream.statusCallback)
      call.statusCallback = stream.statusCallback;
    const media = new TwilioMediaClient({
      url: stream.url,
      authToken: this.#authToken,
      accountSid: this.#accountSid,
      callSid: call.callSid,
      parameters: stream.parameters,
      onEnded: (by) => void this.#track(this.#streamEnded(call, twiml, by)),
      ...(this.#media?.retain === false ? { retain: false } : {}),
      ...(this.#media?.onMessage ? { onMessage: this.#media.onMessage.bind(undefined, call.callSid) } : {}),
    });
    call.media = media;
    await media.connect(signature);
    if (media.isOpen) void this.#track(this.#streamEvent(call, 'stream-started'));
    return media;
  }

  async #streamEvent(call: SimulatedTwilioCall, event: 'stream-started' | 'stream-stopped'): Promise<void> {
    const url = call.stream?.statusCallback;
    if (!url || !call.media) return;
    await this.webhooks.post(url, {
      AccountSid: this.#accountSid,
      CallSid: call.callSid,
      StreamSid: call.media.streamSid,
      StreamEvent: event,
      Timestamp: new Date().toISOString(),
    });
  }

  async #streamEnded(
    call: SimulatedTwilioCall,
    twiml: ReadTwiml,
    by: 'caller' | 'carrier' | 'server',
  ): Promise<void> {
    await this.#streamEvent(call, 'stream-stopped');
    if (by === 'caller') return this.#end(call, 'completed');
    if (by === 'carrier' || call.status !== 'in-progress') return;
    // Parley closed the stream: `<Connect>` ends and Twilio fetches its action for what comes next.
    if (!twiml.connectAction) return this.#end(call, 'completed');
    const params = callParams({ ...call, accountSid: this.#accountSid, status: 'in-progress' });
    const next = await this.webhooks.post(twiml.connectAction, params);
    if (next.status !== 200) return this.#end(call, 'completed');
    await this.#execute(call, next.body);
  }

  async #statusCallback(
    call: SimulatedTwilioCall,
    status: SimulatedTwilioCall['status'],
    extra: Record<string, string> = {},
  ) {
    const event = status === 'in-progress' ? 'answered' : status === 'queued' ? 'queued' : status;
    const terminal = !['queued', 'initiated', 'ringing', 'in-progress'].includes(status);
    if (!call.statusCallback || !(terminal || call.statusEvents.has(event))) return;
    await this.webhooks.post(call.statusCallback, {
      ...callParams({ ...call, accountSid: this.#accountSid, status }),
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(call.sequence++),
      Timestamp: new Date().toUTCString(),
      ...extra,
    });
  }

  /** The call ends with `status` (once), with its final status callback. */
  async #end(call: SimulatedTwilioCall, status: Terminal): Promise<void> {
    if (!['queued', 'initiated', 'ringing', 'in-progress'].includes(call.status)) return;
    call.status = status;
    const seconds = call.answeredAt ? Math.round((Date.now() - call.answeredAt) / 1000) : 0;
    const sip = SIP_CODES[status];
    await this.#statusCallback(call, status, {
      CallDuration: String(seconds),
      Duration: String(Math.ceil(seconds / 60)),
      ...(sip ? { SipResponseCode: sip } : {}),
    });
  }

  // ---------------------------------------------------------------- outbound
  #outboundHandle(call: SimulatedTwilioCall): SimulatedOutbound {
    return {
      from: call.from,
      to: call.to,
      carrierCallId: call.callSid,
      answer: async ({ machine = false } = {}) => {
        await call.progress;
        if (call.status !== 'ringing') throw new Error(`call ${call.callSid} is ${call.status}, not ringing`);
        call.status = 'in-progress';
        call.answeredAt = Date.now();
        const verdict = machine ? 'machine_end_beep' : 'human';
        const syncAmd: Record<string, string> = call.amd && !call.amd.async ? { AnsweredBy: verdict } : {};
        await this.#track(this.#statusCallback(call, 'in-progress', syncAmd));
        const xml = call.twiml ?? (await this.#fetchUrl(call));
        const media = await this.#execute(call, xml);
        if (!media) throw new Error('the call TwiML opened no stream');
        if (call.amd?.async && call.amd.callback)
          await this.#track(
            this.webhooks.post(call.amd.callback, {
              AccountSid: this.#accountSid,
              CallSid: call.callSid,
              AnsweredBy: verdict,
              MachineDetectionDuration: machine ? '4200' : '1800',
            }),
          );
        return media;
      },
      fail: async (outcome) => {
        await call.progress;
        await this.#track(this.#end(call, outcome));
      },
    };
  }

  async #fetchUrl(call: SimulatedTwilioCall): Promise<string> {
    if (!call.url) throw new Error('the call has neither Twiml nor Url');
    const answer = await this.webhooks.post(
      call.url,
      callParams({ ...call, accountSid: this.#accountSid, status: 'in-progress' }),
    );
    return answer.body;
  }

  // ---------------------------------------------------------------- the REST API
  async #updateCall(callSid: string, form: URLSearchParams): Promise<RestAnswer> {
    const call = this.calls.get(callSid);
    if (!call) return restError(404, 20404, `The requested resource /Calls/${callSid}.json was not found`);
    const status = form.get('Status');
    if (status !== null) {
      if (status !== 'completed' && status !== 'canceled') return restError(400, 21218, 'Invalid Status');
      const live = call.status === 'in-progress';
      // `canceled` only ends calls not yet answered; `completed` ends any (an ended call: no-op).
      if (!(status === 'canceled' && live)) {
        call.media?.stop('carrier');
        await this.#track(this.#end(call, live ? 'completed' : 'canceled'));
      }
      return { status: 200, json: this.#resource(call) };
    }
    const twiml = form.get('Twiml');
    if (twiml === null && form.get('Url') === null) return restError(400, 21205, 'Url or Twiml is required');
    if (call.status !== 'in-progress')
      return restError(400, 21220, 'Call is not in-progress. Cannot redirect.');
    if (twiml !== null) {
      const read = readTwiml(twiml);
      if (read.dial && this.#rejectTransfers)
        return restError(400, 13223, 'Dial: Invalid phone number format');
      if (read.dial) call.dialed = read.dial;
    }
    // A redirect ends the running `<Connect><Stream>`: the stream gets `stop`.
    call.media?.stop('carrier');
    return { status: 200, json: this.#resource(call) };
  }

  #createCall(form: URLSearchParams): RestAnswer {
    const to = form.get('To') ?? '';
    const from = form.get('From') ?? '';
    if (!to) return restError(400, 21201, "No 'To' number is specified");
    if (!from) return restError(400, 21213, "No 'From' number is specified");
    if (!E164.test(to) && !to.startsWith('sip:'))
      return restError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (!E164.test(from)) return restError(400, 21212, `Invalid 'From' Phone Number: ${from}`);
    const twiml = form.get('Twiml');
    const url = form.get('Url');
    if (twiml === null && url === null) return restError(400, 21205, 'Url parameter is required.');
    const call = this.#newCall({ from, to, direction: 'outbound-api' });
    if (twiml !== null) call.twiml = twiml;
    if (url !== null) call.url = url;
    const statusCallback = form.get('StatusCallback');
    if (statusCallback) call.statusCallback = statusCallback;
    for (const event of form.getAll('StatusCallbackEvent').flatMap((e) => e.split(/\s+/)))
      call.statusEvents.add(event);
    const amd = form.get('MachineDetection');
    if (amd === 'Enable' || amd === 'DetectMessageEnd') {
      const callback = form.get('AsyncAmdStatusCallback');
      call.amd = { async: form.get('AsyncAmd') === 'true', ...(callback ? { callback } : {}) };
    }
    let sent = () => {};
    const answered = new Promise<void>((resolve) => {
      sent = resolve;
    });
    call.progress = this.#track(
      answered.then(async () => {
        if (call.status !== 'queued') return;
        call.status = 'initiated';
        await this.#statusCallback(call, 'initiated');
        if (call.status !== 'initiated') return;
        call.status = 'ringing';
        await this.#statusCallback(call, 'ringing');
      }),
    );
    const handle = this.#outboundHandle(call);
    const waiter = this.#waiters.shift();
    if (waiter) waiter(handle);
    else this.#outbound.push(handle);
    return { status: 201, json: this.#resource(call), sent };
  }

  #resource(call: SimulatedTwilioCall): object {
    return {
      sid: call.callSid,
      account_sid: this.#accountSid,
      to: call.to,
      from: call.from,
      status: call.status,
      direction: call.direction,
      api_version: '2010-04-01',
      uri: `/2010-04-01/Accounts/${this.#accountSid}/Calls/${call.callSid}.json`,
    };
  }
}

export function createTwilioSimulator(options?: TwilioSimulatorOptions): TwilioSimulator {
  return new TwilioSimulator(options);
}
