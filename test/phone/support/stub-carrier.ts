// A minimal carrier for the phone entry point's tests: an HMAC over the public URL and the raw
// body as its signature, a JSON media dialect on CarrierMediaStream, and a log of what the shared
// routes asked of it. The real carriers' dialects are tested by the conformance suite.
import { createHmac } from 'node:crypto';
import type { WebSocket } from 'ws';
import type {
  AnswerRequest,
  CallUrls,
  CarrierAccount,
  CarrierHttpRequest,
  CarrierName,
  InboundOffer,
  MediaContext,
  PhoneCarrier,
  PlaceCallRequest,
  StatusReport,
  Verification,
} from '../../../src/transports/phone/carrier.js';
import { CarrierMediaStream } from '../../../src/transports/phone/media-stream.js';
import type { ControlResult, TransferDestination, Transport } from '../../../src/transports/transport.js';

export const sign = (secret: string, url: string, body: string) =>
  createHmac('sha256', secret)
    .update(url + body)
    .digest('base64');

export class StubMedia extends CarrierMediaStream {
  readonly providerName = 'stub';
  readonly sent: unknown[] = [];
  constructor(socket: WebSocket, context: MediaContext) {
    super(socket, context);
  }
  protected onMessage(data: Buffer): void {
    const message = JSON.parse(data.toString('utf8')) as { event: string; payload?: string; digits?: string };
    if (message.event === 'start') this.started({ encoding: 'mulaw', sampleRate: 8000 });
    else if (message.event === 'media') this.receivedAudio(Buffer.from(message.payload ?? '', 'base64'));
    else if (message.event === 'dtmf') this.receivedDtmf(message.digits ?? '');
    else if (message.event === 'stop') this.stopped();
    else throw new Error(`unknown event ${message.event}`);
  }
  protected writeMedia(payload: Uint8Array): void {
    this.socket.send(JSON.stringify({ event: 'media', payload: Buffer.from(payload).toString('base64') }));
  }
  protected writeMark(name: string): void {
    this.socket.send(JSON.stringify({ event: 'mark', name }));
  }
  protected writeClear(): void {
    this.socket.send(JSON.stringify({ event: 'clear' }));
  }
}

export interface StubCall {
  method: string;
  args: unknown[];
}

export class StubCarrier implements PhoneCarrier {
  readonly displayName = 'Stub';
  readonly credentialFields = [
    { name: 'accountId', secret: false, description: 'the account' },
    { name: 'secret', secret: true, description: 'signs webhooks' },
  ];
  readonly defaultApiBaseUrl = 'https://api.stub.invalid';
  readonly capabilities = { transfer: true, dtmf: true };
  readonly log: StubCall[] = [];
  readonly verified: CarrierHttpRequest[] = [];
  readonly media: Transport[] = [];
  placeError: Error | undefined;

  constructor(readonly name: CarrierName = 'twilio') {}

  private check(req: CarrierHttpRequest, account: CarrierAccount): Verification {
    this.verified.push(req);
    const expected = sign(account.credentials.secret ?? '', req.url, req.rawBody.toString('utf8'));
    return req.headers['x-stub-signature'] === expected
      ? { ok: true }
      : { ok: false, reason: 'bad signature' };
  }
  setup(urls: { inboundUrl: string; statusUrl: string }) {
    return [
      { field: 'Voice URL', url: urls.inboundUrl, method: 'POST' as const },
      { field: 'Status callback', url: urls.statusUrl, method: 'POST' as const },
    ];
  }
  verifyWebhook(req: CarrierHttpRequest, account: CarrierAccount): Verification {
    return this.check(req, account);
  }
  verifyMediaUpgrade(req: CarrierHttpRequest, account: CarrierAccount): Verification {
    return this.check(req, account);
  }
  parseInbound(req: CarrierHttpRequest): InboundOffer | undefined {
    const body = new URLSearchParams(req.rawBody.toString('utf8'));
    if (body.get('Event') !== 'incoming') return undefined;
    return {
      carrierCallId: body.get('CallSid') ?? '',
      from: body.get('From') ?? '',
      to: body.get('To') ?? '',
    };
  }
  async answer(
    request: AnswerRequest,
    account: CarrierAccount,
  ): Promise<{ status: number; contentType: string; body: string }> {
    this.log.push({ method: 'answer', args: [request, account] });
    return { status: 200, contentType: 'application/xml', body: `<Stream url="${request.urls.mediaUrl}"/>` };
  }
  async refuse(offer: InboundOffer, how: { say: string; forwardTo?: TransferDestination }) {
    this.log.push({ method: 'refuse', args: [offer, how] });
    return { status: 200, contentType: 'application/xml', body: `<Say>${how.say}</Say>` };
  }
  answerOutbound(request: { callId: string; urls: { mediaUrl: string } }) {
    return { status: 200, contentType: 'application/xml', body: `<Stream url="${request.urls.mediaUrl}"/>` };
  }
  afterStream() {
    return { status: 200, contentType: 'application/xml', body: '<Hangup/>' };
  }
  parseStatus(req: CarrierHttpRequest): StatusReport | undefined {
    const body = new URLSearchParams(req.rawBody.toString('utf8'));
    const status = body.get('CallStatus');
    if (!status) return undefined;
    return {
      carrierCallId: body.get('CallSid') ?? '',
      status: status as StatusReport['status'],
      detail: status,
      ...(body.get('AnsweredBy') ? { answeredBy: 'machine' as const } : {}),
    };
  }
  async placeCall(request: PlaceCallRequest, account: CarrierAccount): Promise<{ carrierCallId: string }> {
    this.log.push({ method: 'placeCall', args: [request, account] });
    if (this.placeError) throw this.placeError;
    return { carrierCallId: `CA-out-${request.callId}` };
  }
  async hangUp(carrierCallId: string, account: CarrierAccount): Promise<ControlResult> {
    this.log.push({ method: 'hangUp', args: [carrierCallId, account] });
    return { ok: true };
  }
  async transfer(
    carrierCallId: string,
    to: TransferDestination,
    account: CarrierAccount,
    _signal: AbortSignal,
    urls?: CallUrls,
  ): Promise<ControlResult> {
    this.log.push({ method: 'transfer', args: [carrierCallId, to, account, urls] });
    return { ok: true };
  }
  async sendDtmf(carrierCallId: string, digits: string, account: CarrierAccount): Promise<ControlResult> {
    this.log.push({ method: 'sendDtmf', args: [carrierCallId, digits, account] });
    return { ok: true };
  }
  createMedia(socket: WebSocket, context: MediaContext): Transport {
    const media = new StubMedia(socket, context);
    this.media.push(media);
    return media;
  }
}
