// The phone entry point on its own (stub carrier, stub ports): carrier webhooks are verified over
// the configured public URL and the raw body, a bad signature reaches no call, admission's
// answer becomes the carrier's markup, status callbacks reach the call, the media WebSocket
// needs a valid one-time token (and signature), call control is bound to the carrier call id,
// and outbound calls are placed with the call's URLs.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiError, errorHandler } from '../../src/shared/api-error.js';
import { defaultInputLimits } from '../../src/shared/input-limits.js';
import type { PlaceCallRequest } from '../../src/transports/phone/carrier.js';
import { CarrierRegistry } from '../../src/transports/phone/carriers.js';
import { registerPhoneEntryPoint } from '../../src/transports/phone/phone-routes.js';
import { APOLOGY } from '../../src/transports/phone/phone-webhooks.js';
import type { OutboundCalls } from '../../src/transports/ports.js';
import { registerWebSocketSupport } from '../../src/transports/web/websocket-plugin.js';
import { StubCarrier, sign } from './support/stub-carrier.js';
import { StubAdmission, StubDirectory, StubStatus } from './support/stub-ports.js';

const PUBLIC = 'https://parley.example.com';
const SECRET = 'stub-secret';
const NUMBER = { id: 'num1', teamId: 'team1', number: '+14155550100', provider: 'twilio' as const };

describe('phone entry point (stub carrier)', () => {
  let app: FastifyInstance;
  let base: string;
  let carrier: StubCarrier;
  let admission: StubAdmission;
  let status: StubStatus;
  let directory: StubDirectory;
  let outbound: OutboundCalls;
  const warnings: string[] = [];

  beforeAll(async () => {
    carrier = new StubCarrier('twilio');
    admission = new StubAdmission();
    status = new StubStatus();
    directory = new StubDirectory(admission);
    directory.add(
      {
        ...NUMBER,
        assistantId: 'asst1',
        server: { url: 'https://hooks.example.com/x' },
        fallbackDestination: { type: 'number', number: '+14155550199' },
      },
      { accountId: 'AC1', secret: SECRET },
    );
    app = Fastify() as unknown as FastifyInstance;
    app.setErrorHandler(errorHandler);
    await registerWebSocketSupport(app);
    const mounted = await registerPhoneEntryPoint(app, {
      admission,
      phoneStatus: status,
      publicUrl: () => PUBLIC,
      inputLimits: { ...defaultInputLimits, helloTimeoutMs: 2000 },
      log: { warn: (_o, msg) => warnings.push(msg), error: (_o, msg) => warnings.push(msg) },
      phoneNumbers: directory,
      carriers: new CarrierRegistry([carrier]),
    });
    if (!mounted.outbound) throw new Error('no outbound');
    outbound = mounted.outbound;
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => app?.close());
  beforeEach(() => {
    admission.refuseWith = undefined;
    admission.admitError = undefined;
    carrier.placeError = undefined;
  });

  /** A carrier webhook, signed over the public URL (or `signedUrl`) and the exact body. */
  const post = (
    path: string,
    fields: Record<string, string>,
    opts: { signedUrl?: string; secret?: string } = {},
  ) => {
    const body = new URLSearchParams(fields).toString();
    return fetch(base + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-stub-signature': sign(opts.secret ?? SECRET, opts.signedUrl ?? PUBLIC + path, body),
      },
      body,
    });
  };
  const incoming = (callSid: string, opts?: { signedUrl?: string; secret?: string }) =>
    post(
      '/telephony/twilio/num1/inbound?attempt=1',
      { Event: 'incoming', CallSid: callSid, From: '+15005550006', To: NUMBER.number },
      opts,
    );

  const connectMedia = async (mediaUrl: string, secret = SECRET) => {
    const path = mediaUrl.replace(/^wss:\/\/parley\.example\.com/, '');
    const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`, {
      headers: { 'x-stub-signature': sign(secret, mediaUrl, '') },
    });
    const closed = once(ws, 'close').then(([code, reason]) => ({
      code: code as number,
      reason: String(reason),
    }));
    await once(ws, 'open');
    return { ws, closed };
  };
  const mediaUrlOf = (markup: string) => /url="([^"]+)"/.exec(markup)?.[1] ?? '';

  it('verifies an inbound webhook over the public URL and raw body, admits, and answers with the media URL', async () => {
    const res = await incoming('CA100');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/xml');
    const markup = await res.text();
    const [row] = [...admission.calls.values()];
    if (!row) throw new Error('not admitted');
    expect(markup).toContain(`wss://parley.example.com/telephony/twilio/media/${row.call.id}/${row.token}`);
    expect(row.request).toMatchObject({
      teamId: 'team1',
      channel: 'twilio',
      direction: 'inbound',
      customer: { number: '+15005550006' },
      phoneNumber: { id: 'num1', number: NUMBER.number, assistantId: 'asst1' },
      carrierCallId: 'CA100',
      server: { url: 'https://hooks.example.com/x' },
    });
    const verified = carrier.verified.at(-1);
    expect(verified?.url).toBe(`${PUBLIC}/telephony/twilio/num1/inbound?attempt=1`);
    expect(verified?.rawBody.toString()).toBe(
      'Event=incoming&CallSid=CA100&From=%2B15005550006&To=%2B14155550100',
    );
  });

  it('refuses a bad signature, or one over the Host URL instead of the public one, with 403 and no call', async () => {
    const before = admission.calls.size;
    const bad = await incoming('CA101', { secret: 'wrong' });
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as { error: unknown }).error).toMatchObject({
      code: 'invalid_signature',
      message: 'Stub signature refused: bad signature',
    });
    const host = await incoming('CA102', { signedUrl: `${base}/telephony/twilio/num1/inbound?attempt=1` });
    expect(host.status).toBe(403);
    expect(admission.calls.size).toBe(before);
  });

  it('answers 404 for an unknown number or a number of another carrier, and 409 for a call already answered', async () => {
    expect((await post('/telephony/twilio/nope/inbound', { Event: 'incoming' })).status).toBe(404);
    expect((await post('/telephony/telnyx/num1/inbound', { Event: 'incoming' })).status).toBe(404);
    expect((await incoming('CA100')).status).toBe(409);
  });

  it('refuses with the fallback destination when admission refuses, and apologises when admission fails', async () => {
    admission.refuseWith = { say: 'No assistant' };
    const refused = await incoming('CA110');
    expect(await refused.text()).toBe('<Say>No assistant</Say>');
    expect(carrier.log.at(-1)?.args[1]).toEqual({
      say: 'No assistant',
      forwardTo: { type: 'number', number: '+14155550199' },
    });
    admission.refuseWith = undefined;
    admission.admitError = new Error('database down');
    const failed = await incoming('CA111');
    expect(failed.status).toBe(200);
    expect(carrier.log.at(-1)?.args[1]).toEqual({
      say: APOLOGY,
      forwardTo: { type: 'number', number: '+14155550199' },
    });
  });

  it("applies status callbacks to the call the carrier's id names, and ignores unknown ids", async () => {
    const res = await incoming('CA120');
    const callId = [...admission.calls.values()].find((r) => r.carrierCallId === 'CA120')?.call.id;
    expect(res.status).toBe(200);
    expect(
      (await post('/telephony/twilio/num1/status', { CallSid: 'CA120', CallStatus: 'completed' })).status,
    ).toBe(200);
    expect(status.reports.at(-1)).toMatchObject({ callId, status: 'completed' });
    const count = status.reports.length;
    expect(
      (await post('/telephony/twilio/num1/status', { CallSid: 'CA-unknown', CallStatus: 'busy' })).status,
    ).toBe(200);
    expect(status.reports.length).toBe(count);
    expect(
      (await post('/telephony/twilio/num1/status', { CallSid: 'CA120', CallStatus: 'busy' }, { secret: 'x' }))
        .status,
    ).toBe(403);
    expect(status.reports.length).toBe(count);
  });

  it('attaches the media to the call on a valid token, binds call control, and refuses a reused token', async () => {
    const markup = await (await incoming('CA130')).text();
    const mediaUrl = mediaUrlOf(markup);
    const row = [...admission.calls.values()].find((r) => r.carrierCallId === 'CA130');
    const { ws } = await connectMedia(mediaUrl);
    ws.send(JSON.stringify({ event: 'start' }));
    await expect.poll(() => row?.transport).toBeDefined();
    const transport = row?.transport;
    if (!transport) throw new Error('no transport');
    const hello = new Promise((resolve) =>
      transport.start({
        onHello: resolve,
        onAudio: () => {},
        onUserText: () => {},
        onMark: () => {},
        onSay: () => {},
        onEnd: () => {},
        onClose: () => {},
      }),
    );
    expect(await hello).toMatchObject({ sampleRate: 8000, frameMs: 20 });
    expect(await transport.sendDtmf?.('12', AbortSignal.timeout(1000))).toEqual({ ok: true });
    expect(carrier.log.at(-1)).toMatchObject({
      method: 'sendDtmf',
      args: ['CA130', '12', { credentials: { accountId: 'AC1' } }],
    });
    expect(await transport.hangUp({ cause: 'completed', reason: 'bye' })).toEqual({ ok: true });
    expect(carrier.log.at(-1)).toMatchObject({
      method: 'hangUp',
      args: ['CA130', { apiBaseUrl: 'https://api.stub.invalid' }],
    });

    // A transfer gets the call's URLs (Plivo serves the transfer's markup from the answer URL).
    expect(
      await transport.transfer?.({ type: 'number', number: '+14155550123' }, AbortSignal.timeout(1000)),
    ).toEqual({
      ok: true,
    });
    const transfer = carrier.log.at(-1);
    expect(transfer?.method).toBe('transfer');
    expect((transfer?.args[3] as { answerUrl?: string } | undefined)?.answerUrl).toContain(
      `/calls/${row?.call.id}/answer/`,
    );

    const reused = await connectMedia(mediaUrl);
    expect(await reused.closed).toMatchObject({ code: 4401, reason: 'invalid or used media token' });
  });

  it('closes a media socket with a bad upgrade signature before touching the call', async () => {
    const mediaUrl = mediaUrlOf(await (await incoming('CA140')).text());
    const row = [...admission.calls.values()].find((r) => r.carrierCallId === 'CA140');
    const bad = await connectMedia(mediaUrl, 'wrong');
    expect(await bad.closed).toMatchObject({ code: 4403 });
    expect(row?.used).toBe(false);
    const unknown = await connectMedia(mediaUrl.replace(/PC-[^/]+/, 'PC-nope'));
    expect((await unknown.closed).code).toBe(4404);
  });

  it('places an outbound call with the call URLs, AMD and time limit, and takes its callbacks per call', async () => {
    const { call } = await outbound.place('team1', {
      phoneNumberId: 'num1',
      customer: { number: '+15005550009' },
      assistantId: 'asst2',
    });
    const placed = carrier.log.at(-1)?.args[0] as PlaceCallRequest;
    const row = admission.calls.get(call.id);
    expect(row?.request).toMatchObject({
      direction: 'outbound',
      customer: { number: '+15005550009' },
      assistant: { assistantId: 'asst2' },
    });
    expect(placed).toMatchObject({
      callId: call.id,
      from: NUMBER.number,
      to: '+15005550009',
      machineDetection: true,
      timeLimitSeconds: 300,
    });
    expect(placed.urls.statusUrl).toBe(`${PUBLIC}/telephony/twilio/num1/calls/${call.id}/status`);
    expect(placed.urls.mediaUrl).toBe(
      `wss://parley.example.com/telephony/twilio/media/${call.id}/${row?.token}`,
    );
    expect(row?.carrierCallId).toBe(`CA-out-${call.id}`);

    const path = `/telephony/twilio/num1/calls/${call.id}/status`;
    expect((await post(path, { CallSid: `CA-out-${call.id}`, CallStatus: 'ringing' })).status).toBe(200);
    expect(status.reports.at(-1)).toMatchObject({ callId: call.id, status: 'ringing' });
    // A carrier that names the call anew once answered (Plivo: request id, then CallUUID): the new id is kept.
    expect((await post(path, { CallSid: 'CA-answered', CallStatus: 'in-progress' })).status).toBe(200);
    expect(row?.carrierCallId).toBe('CA-answered');
    const answer = await post(placed.urls.answerUrl.slice(PUBLIC.length), {});
    expect(mediaUrlOf(await answer.text())).toBe(placed.urls.mediaUrl);
    const after = await post(`/telephony/twilio/num1/calls/${call.id}/after`, {});
    expect(await after.text()).toBe('<Hangup/>');
    expect(
      (await post('/telephony/twilio/num1/calls/PC-other/status', { CallSid: 'x', CallStatus: 'busy' }))
        .status,
    ).toBe(404);
  });

  it('ends an outbound call the carrier will not place as failed, and says so with a 502', async () => {
    carrier.placeError = new Error('21215 geo permissions');
    const error = await outbound
      .place('team1', { phoneNumberId: 'num1', customer: { number: '+15005550009' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).statusCode).toBe(502);
    expect((error as ApiError).message).toContain('21215 geo permissions');
    expect(status.reports.at(-1)).toMatchObject({ status: 'failed' });
    const other = await outbound
      .place('team2', { phoneNumberId: 'num1', customer: { number: '+15005550009' } })
      .catch((e: unknown) => e);
    expect((other as ApiError).statusCode).toBe(404);
    const bad = await outbound
      .place('team1', { phoneNumberId: 'num1', customer: { number: '555' } })
      .catch((e: unknown) => e);
    expect((bad as ApiError).field).toBe('customer.number');
  });
});
