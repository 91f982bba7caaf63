/**
 * Inbound SIP calls (a user agent server, RFC 3261 §13-15): an INVITE to a number Parley has
 * (the Request-URI's user part, a phone number with provider `sip`) is answered `100`, `180`,
 * admitted (channel `sip`, the SIP Call-ID as the carrier's id), then `200` with the SDP answer
 * and retransmitted until the ACK; the ACK connects the call's `SipTransport`. BYE from the
 * caller ends the call; the engine's hang-up sends BYE. CANCEL before the answer gives `487` and
 * ends the call `canceled`; no ACK within Timer H ends it unanswered (and sends BYE). Numbers
 * Parley does not have get `404` and allocate no media; a full RTP port range gives `486`.
 * Every exit releases the dialog and its RTP port.
 */
import { randomBytes } from 'node:crypto';
import type { PhoneNumberRecord } from '../phone/phone-ports.js';
import type { CallAdmissionPort, MediaAcceptance, PhoneStatusPort } from '../ports.js';
import { headerParam, parseCSeq, type SipRequest, uriOf, uriUser } from './message.js';
import { type RtpPortRange, RtpSession } from './rtp.js';
import { buildAnswer, parseOffer } from './sdp.js';
import {
  ALLOW,
  type Peer,
  type ServerTransaction,
  SipEndpoint,
  type SipRequestHandler,
} from './sip-endpoint.js';
import { SipTransport } from './sip-transport.js';

/** How long admission (and its assistant-request) may take before the caller gets a 503. */
const ADMIT_BUDGET_MS = 8000;
/** How long a BYE waits for its answer before the dialog is dropped anyway. */
const BYE_BUDGET_MS = 5000;

export interface SipCallsDeps {
  endpoint: SipEndpoint;
  rtpPorts: RtpPortRange;
  /** The address RTP sockets bind to. */
  rtpHost: string;
  /** The address Parley advertises in SDP and Contact (`PARLEY_SIP_PUBLIC_IP`). */
  publicAddress: string;
  /** The phone number with provider `sip` called, by the Request-URI's user part. */
  numberFor(user: string): Promise<PhoneNumberRecord | undefined>;
  admission: CallAdmissionPort;
  phoneStatus: PhoneStatusPort;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

type Phase = 'admitting' | 'answered' | 'confirmed' | 'ended';

interface Dialog {
  sipCallId: string;
  localTag: string;
  remoteTag: string;
  /** The caller's From (our To in requests we send). */
  remote: string;
  /** Our To (with our tag), the From of requests we send. */
  local: string;
  remoteTarget: string;
  peer: Peer;
  invite: ServerTransaction;
  phase: Phase;
  localCseq: number;
  callId?: string;
  rtp?: RtpSession;
  accepted?: Extract<MediaAcceptance, { ok: true }>;
  transport?: SipTransport;
  answerSdp?: string;
}

export class SipCalls implements SipRequestHandler {
  private readonly dialogs = new Map<string, Dialog>();
  private readonly byInvite = new Map<ServerTransaction, Dialog>();

  constructor(private readonly deps: SipCallsDeps) {}

  /** Live dialogs (every exit path removes its dialog; tests check it drops to 0). */
  get liveDialogs(): number {
    return this.dialogs.size;
  }

  private contact(): string {
    return `<sip:parley@${this.deps.publicAddress}:${this.deps.endpoint.localPort}>`;
  }

  onRequest(tx: ServerTransaction): void {
    const { request } = tx;
    switch (request.method) {
      case 'INVITE':
        if (headerParam(request.headers.get('to') ?? '', 'tag')) this.reInvite(tx);
        else void this.invite(tx);
        return;
      case 'OPTIONS':
        tx.respond(200, 'OK', {
          toTag: tag(),
          extra: [
            ['Allow', ALLOW],
            ['Accept', 'application/sdp'],
            ['Contact', this.contact()],
          ],
        });
        return;
      case 'BYE':
        this.bye(tx);
        return;
      case 'INFO':
        this.info(tx);
        return;
      default:
        tx.respond(405, 'Method Not Allowed', { toTag: tag(), extra: [['Allow', ALLOW]] });
    }
  }

  private dialogOf(request: SipRequest): Dialog | undefined {
    const localTag = headerParam(request.headers.get('to') ?? '', 'tag');
    return localTag ? this.dialogs.get(`${request.headers.get('call-id')}|${localTag}`) : undefined;
  }

  private async invite(tx: ServerTransaction): Promise<void> {
    const { request } = tx;
    tx.respond(100, 'Trying');
    const unsupported = request.headers.get('require');
    if (unsupported) {
      tx.respond(420, 'Bad Extension', { toTag: tag(), extra: [['Unsupported', unsupported]] });
      return;
    }
    const offer = parseOffer(request.body.toString('latin1'));
    if (!offer.ok) {
      tx.respond(offer.status, offer.status === 488 ? 'Not Acceptable Here' : 'Bad Request', {
        toTag: tag(),
        extra: [['Warning', `399 parley "${offer.error}"`]],
      });
      return;
    }
    const user = uriUser(request.uri);
    let number: PhoneNumberRecord | undefined;
    try {
      number = user ? await this.deps.numberFor(user) : undefined;
    } catch (error) {
      this.deps.log.error({ err: error }, 'SIP: the number could not be looked up');
      tx.respond(503, 'Service Unavailable', { toTag: tag() });
      return;
    }
    if (!number) {
      tx.respond(404, 'Not Found', { toTag: tag() });
      return;
    }
    // Canceled while the number was looked up (the INVITE got its 487 already).
    if (tx.final) return;
    const from = request.headers.get('from') ?? '';
    const d: Dialog = {
      sipCallId: request.headers.get('call-id') ?? '',
      localTag: tag(),
      remoteTag: headerParam(from, 'tag') ?? '',
      remote: from,
      local: '',
      remoteTarget: uriOf(request.headers.get('contact') ?? '') || uriOf(from),
      peer: tx.peer,
      invite: tx,
      phase: 'admitting',
      localCseq: 0,
    };
    d.local = `${request.headers.get('to') ?? ''};tag=${d.localTag}`;
    this.dialogs.set(`${d.sipCallId}|${d.localTag}`, d);
    this.byInvite.set(tx, d);
    try {
      await this.answer(d, number, offer.offer);
    } catch (error) {
      this.deps.log.error({ err: error, callId: d.callId }, 'SIP: an inbound call failed');
      tx.respond(500, 'Server Internal Error', { toTag: d.localTag });
      if (d.callId) await this.report(d.callId, 'failed', 'SIP: the call could not be set up', 500);
      this.release(d);
    }
  }

  private async answer(d: Dialog, number: PhoneNumberRecord, offer: Parameters<typeof buildAnswer>[0]) {
    const tx = d.invite;
    // Ringing while the call is admitted (its assistant-request may take seconds).
    tx.respond(180, 'Ringing', { toTag: d.localTag, extra: [['Contact', this.contact()]] });
    let media: Awaited<ReturnType<RtpPortRange['open']>>;
    try {
      media = await this.deps.rtpPorts.open(this.deps.rtpHost);
    } catch {
      tx.respond(486, 'Busy Here', { toTag: d.localTag });
      return this.release(d);
    }
    d.rtp = new RtpSession(media.socket, media.port, offer, media.release);
    if (d.invite.final) return this.release(d);
    const caller = uriUser(uriOf(d.remote)) ?? uriOf(d.remote);
    const admitted = await this.deps.admission.admit(
      {
        teamId: number.teamId,
        channel: 'sip',
        direction: 'inbound',
        customer: { number: caller.slice(0, 64) },
        phoneNumber: {
          id: number.id,
          number: number.number,
          ...(number.assistantId ? { assistantId: number.assistantId } : {}),
          ...(number.fallbackDestination ? { fallbackDestination: number.fallbackDestination } : {}),
        },
        assistant: {},
        carrierCallId: d.sipCallId.slice(0, 200),
        ...(number.server ? { server: number.server } : {}),
      },
      AbortSignal.timeout(ADMIT_BUDGET_MS),
    );
    d.callId = admitted.call.id;
    if (admitted.kind === 'refused') {
      // The call is stored and ended already; SIP cannot speak before an answer.
      tx.respond(480, 'Temporarily Unavailable', { toTag: d.localTag });
      return this.release(d);
    }
    if (d.invite.final) {
      await this.report(d.callId, 'canceled', 'The caller canceled the call', 487);
      return this.release(d);
    }
    const accepted = await this.deps.admission.acceptMedia(d.callId, admitted.mediaToken);
    if (!accepted.ok) throw new Error(`media not accepted: ${accepted.reason}`);
    d.accepted = accepted;
    if (d.invite.final) {
      await this.report(d.callId, 'canceled', 'The caller canceled the call', 487);
      await accepted.release('the caller canceled the call');
      return this.release(d);
    }
    d.answerSdp = buildAnswer(offer, {
      address: this.deps.publicAddress,
      port: media.port,
      sessionId: Date.now() % 1e9,
    });
    d.phase = 'answered';
    tx.respond(200, 'OK', {
      toTag: d.localTag,
      extra: [
        ['Contact', this.contact()],
        ['Allow', ALLOW],
        ['Content-Type', 'application/sdp'],
      ],
      body: d.answerSdp,
      onAckTimeout: () => void this.ackTimeout(d),
    });
  }

  /** Timer H passed without the ACK: the call never connected. */
  private async ackTimeout(d: Dialog): Promise<void> {
    if (d.phase !== 'answered') return;
    // Resources first; the BYE (for a caller that did answer but lost its ACK) need not be awaited.
    this.release(d);
    await d.accepted?.release('no ACK for the 200 OK (SIP Timer H)').catch((error: unknown) => {
      this.deps.log.warn({ err: error, callId: d.callId }, 'SIP: an unanswered call could not be released');
    });
    await this.sendBye(d);
  }

  onAck(request: SipRequest, _peer: Peer): void {
    const d = this.dialogOf(request);
    if (d?.phase !== 'answered' || !d.rtp || !d.accepted) return;
    d.invite.acked();
    d.phase = 'confirmed';
    const transport = new SipTransport(d.rtp, { bye: () => this.hangUpFromEngine(d) });
    d.transport = transport;
    try {
      d.accepted.attach(transport);
    } catch (error) {
      this.deps.log.warn({ err: error, callId: d.callId }, 'SIP: the call could not take media');
      void this.sendBye(d).then(() => this.release(d));
    }
  }

  onCancel(invite: ServerTransaction): void {
    const d = this.byInvite.get(invite);
    invite.respond(487, 'Request Terminated', { toTag: d?.localTag ?? tag() });
    // The call, once admitted, ends `canceled` where `answer` sees the INVITE answered.
  }

  private bye(tx: ServerTransaction): void {
    const d = this.dialogOf(tx.request);
    if (!d) {
      tx.respond(481, 'Call/Transaction Does Not Exist', { toTag: tag() });
      return;
    }
    tx.respond(200, 'OK');
    if (d.transport) d.transport.remoteEnded('caller hung up');
    else
      void d.accepted?.release('the caller hung up before the ACK').catch((error: unknown) => {
        this.deps.log.warn({ err: error, callId: d.callId }, 'SIP: the call could not be released');
      });
    this.release(d);
  }

  private info(tx: ServerTransaction): void {
    const d = this.dialogOf(tx.request);
    if (!d) {
      tx.respond(481, 'Call/Transaction Does Not Exist', { toTag: tag() });
      return;
    }
    const type = (tx.request.headers.get('content-type') ?? '').toLowerCase();
    const body = tx.request.body.toString('latin1');
    const signal = /^signal\s*=\s*([0-9*#A-Da-d])\s*$/im.exec(body)?.[1];
    if (type.startsWith('application/dtmf-relay') && signal) d.transport?.receivedDigit(signal.toUpperCase());
    tx.respond(200, 'OK');
  }

  private reInvite(tx: ServerTransaction): void {
    const d = this.dialogOf(tx.request);
    if (!d?.answerSdp) {
      tx.respond(481, 'Call/Transaction Does Not Exist', { toTag: tag() });
      return;
    }
    // A refresh or hold: Parley keeps its media as it is and says so.
    tx.respond(200, 'OK', {
      extra: [
        ['Contact', this.contact()],
        ['Content-Type', 'application/sdp'],
      ],
      body: d.answerSdp,
    });
  }

  /** The engine hangs up: BYE, then the dialog is gone. */
  private async hangUpFromEngine(d: Dialog): Promise<void> {
    if (d.phase === 'ended') return;
    await this.sendBye(d);
    this.release(d);
  }

  private async sendBye(d: Dialog): Promise<void> {
    const ep = this.deps.endpoint;
    const branch = SipEndpoint.branch();
    d.localCseq += 1;
    const cseq = Math.max(d.localCseq, (parseCSeq(d.invite.request.headers.get('cseq') ?? '')?.seq ?? 0) + 1);
    d.localCseq = cseq;
    await ep.request(
      'BYE',
      d.remoteTarget,
      branch,
      [
        ['Via', ep.via(`${this.deps.publicAddress}:${ep.localPort}`, branch)],
        ['Max-Forwards', '70'],
        ['From', d.local],
        ['To', d.remote],
        ['Call-ID', d.sipCallId],
        ['CSeq', `${cseq} BYE`],
        ['Contact', this.contact()],
      ],
      d.peer,
      AbortSignal.timeout(BYE_BUDGET_MS),
    );
  }

  private async report(callId: string, status: 'canceled' | 'failed', detail: string, sipCode: number) {
    await this.deps.phoneStatus.report(callId, { status, detail, sipCode }).catch((error: unknown) => {
      this.deps.log.warn({ err: error, callId }, 'SIP: the call status could not be recorded');
    });
  }

  /** Frees the dialog and its RTP port (idempotent). */
  private release(d: Dialog): void {
    d.phase = 'ended';
    d.rtp?.close();
    this.dialogs.delete(`${d.sipCallId}|${d.localTag}`);
    this.byInvite.delete(d.invite);
  }

  /** Ends every live call (server shutdown): BYE each. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.dialogs.values()].map(async (d) => {
        if (d.transport) await d.transport.hangUp({ cause: 'completed', reason: 'server shutting down' });
        else this.release(d);
      }),
    );
  }
}

function tag(): string {
  return randomBytes(6).toString('hex');
}
