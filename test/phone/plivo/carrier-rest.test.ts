import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createPlivoSimulator, type PlivoSimulator } from '../../../src/testing/carriers/plivo/simulator.js';
import type {
  CallUrls,
  CarrierAccount,
  CarrierHttpRequest,
  StatusReport,
} from '../../../src/transports/phone/carrier.js';
import {
  plivoCallIds,
  plivoCarrier,
  plivoTransferReply,
} from '../../../src/transports/phone/plivo/carrier.js';
import type { PlivoMediaStream } from '../../../src/transports/phone/plivo/media.js';
import type { TransportClose, TransportHello } from '../../../src/transports/transport.js';

// A stand-in for the shared phone routes (another helper's), just enough to drive the simulator:
// signed webhooks checked with plivoCarrier, markup answered, statuses and media recorded.
let sim: PlivoSimulator;
let app: Server;
let base = '';
let account: CarrierAccount;
const statuses: StatusReport[] = [];
const refused: string[] = [];
const media: { transport: PlivoMediaStream; hello?: TransportHello; close?: TransportClose }[] = [];
const usedTokens = new Set<string>();
const signal = () => AbortSignal.timeout(5000);

const urlsFor = (id: string): CallUrls => ({
  mediaUrl: `${base.replace('http', 'ws')}/media/${id}/tok`,
  statusUrl: `${base}/status/${id}`,
  answerUrl: `${base}/answer/${id}`,
  afterUrl: `${base}/after/${id}`,
});

async function toCarrierRequest(req: IncomingMessage): Promise<CarrierHttpRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  return { method: req.method ?? 'GET', url: `${base}${req.url}`, headers, rawBody: Buffer.concat(chunks) };
}

beforeEach(async () => {
  sim = createPlivoSimulator();
  await sim.start();
  account = { credentials: sim.credentials, apiBaseUrl: sim.apiBaseUrl };
  statuses.length = 0;
  refused.length = 0;
  media.length = 0;
  usedTokens.clear();
  app = createServer(async (req, res) => {
    const request = await toCarrierRequest(req);
    const verdict = plivoCarrier.verifyWebhook(request, account, Date.now());
    if (!verdict.ok) {
      refused.push(verdict.reason);
      res.writeHead(403).end(verdict.reason);
      return;
    }
    const path = new URL(request.url).pathname;
    let reply = { status: 404, body: '' } as { status: number; body: string; contentType?: string };
    if (path === '/inbound') {
      const offer = plivoCarrier.parseInbound(request);
      if (offer)
        reply = await plivoCarrier.answer(
          { callId: 'PC-in', offer, urls: urlsFor('PC-in') },
          account,
          signal(),
        );
    } else if (path.startsWith('/answer/')) {
      reply =
        plivoTransferReply(request) ??
        plivoCarrier.answerOutbound?.({ callId: 'PC-out', urls: urlsFor('PC-out') }) ??
        reply;
    } else if (path.startsWith('/status/')) {
      const report = plivoCarrier.parseStatus(request);
      if (report) statuses.push(report);
      reply = { status: 200, body: '' };
    }
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain' }).end(reply.body);
  });
  const wss = new WebSocketServer({ server: app });
  wss.on('connection', (socket, req) => {
    const upgrade: CarrierHttpRequest = {
      method: 'GET',
      url: `${base.replace('http', 'ws')}${req.url}`,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
      rawBody: Buffer.alloc(0),
    };
    if (usedTokens.has(upgrade.url)) return socket.close(4401, 'media token already used');
    usedTokens.add(upgrade.url);
    if (!plivoCarrier.verifyMediaUpgrade(upgrade, account, Date.now()).ok)
      return socket.close(1008, 'bad signature');
    const entry: (typeof media)[number] = {} as (typeof media)[number];
    // Control bound to the CallUUID the stream's start carries (what the routes should store).
    const id = () => entry.transport.carrierCallId ?? '';
    entry.transport = plivoCarrier.createMedia(socket, {
      callId: 'PC',
      limits: { helloTimeoutMs: 5000 },
      control: {
        hangUp: () => plivoCarrier.hangUp(id(), account, signal()),
        transfer: (to, s) => plivoCarrier.transfer(id(), to, account, s, urlsFor('PC-in')),
        sendDtmf: (digits, s) => plivoCarrier.sendDtmf(id(), digits, account, s),
      },
    }) as PlivoMediaStream;
    entry.transport.start({
      onHello: (hello) => (entry.hello = hello),
      onAudio: () => {},
      onUserText: () => {},
      onMark: () => {},
      onSay: () => {},
      onEnd: () => {},
      onClose: (info) => (entry.close = info),
    });
    media.push(entry);
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await sim.close();
  app.closeAllConnections();
  await new Promise<void>((resolve) => app.close(() => resolve()));
});

const place = (machineDetection = false) =>
  plivoCarrier.placeCall(
    {
      callId: 'PC-out',
      from: '+14155550100',
      to: '+14155550199',
      urls: urlsFor('PC-out'),
      ringTimeoutSeconds: 30,
      timeLimitSeconds: 600,
      machineDetection,
    },
    account,
    signal(),
  );

describe('Plivo REST against the simulator', () => {
  it('places a call with the exact request, always with hangup_url; answered → ring, stream, machine result', async () => {
    const { carrierCallId } = await place(true);
    const outbound = await sim.nextOutbound();
    expect(outbound.carrierCallId).toBe(carrierCallId);
    const create = sim.restLog[0];
    expect(create?.method).toBe('POST');
    expect(create?.path).toBe(`/v1/Account/${sim.credentials.authId}/Call/`);
    expect(create?.body).toEqual({
      from: '14155550100',
      to: '14155550199',
      answer_url: `${base}/answer/PC-out`,
      answer_method: 'POST',
      hangup_url: `${base}/status/PC-out`,
      hangup_method: 'POST',
      ring_url: `${base}/status/PC-out`,
      ring_method: 'POST',
      ring_timeout: 30,
      time_limit: 600,
      machine_detection: 'true',
      machine_detection_url: `${base}/status/PC-out`,
      machine_detection_method: 'POST',
    });
    const stream = await outbound.answer({ machine: false });
    await expect.poll(() => media[0]?.hello?.sampleRate).toBe(8000);
    expect(statuses.map((s) => s.status)).toEqual(['ringing', 'in-progress']);
    expect(statuses[1]?.answeredBy).toBe('human');
    // The live call's id is the CallUUID (≠ request_uuid): hang-up by it ends the call.
    const callUuid = media[0]?.transport.carrierCallId ?? '';
    expect(callUuid).not.toBe(carrierCallId);
    expect(await plivoCarrier.hangUp(callUuid, account, signal())).toEqual({ ok: true });
    expect((await stream.closed).code).toBe(1000);
    await expect.poll(() => statuses.at(-1)?.status).toBe('completed');
    expect(sim.restLog.at(-1)).toMatchObject({
      method: 'DELETE',
      path: `/v1/Account/${sim.credentials.authId}/Call/${callUuid}/`,
      action: 'hangup',
    });
  });

  it('busy, no-answer and failed end with the mapped hangup status', async () => {
    const expected = { busy: ['busy'], 'no-answer': ['ringing', 'no-answer'], failed: ['failed'] } as const;
    for (const outcome of ['busy', 'no-answer', 'failed'] as const) {
      statuses.length = 0;
      await place();
      await (await sim.nextOutbound()).fail(outcome);
      expect(statuses.map((s) => s.status)).toEqual(expected[outcome]);
    }
  });

  it('hang-up while ringing cancels by request_uuid; an ended call hangs up fine', async () => {
    const { carrierCallId } = await place();
    await sim.nextOutbound();
    expect(await plivoCarrier.hangUp(carrierCallId, account, signal())).toEqual({ ok: true });
    expect(sim.restLog.slice(1).map((r) => `${r.method} ${r.path.split('/').slice(4, 5)}`)).toEqual([
      'DELETE Call',
      'DELETE Request',
    ]);
    await expect.poll(() => statuses.at(-1)?.status).toBe('canceled');
    expect(await plivoCarrier.hangUp(carrierCallId, account, signal())).toEqual({ ok: true });
    expect(await plivoCarrier.hangUp('no/such', account, signal())).toMatchObject({ ok: false });
  });

  it('inbound: signed webhook → <Stream> → media; bad and replayed signatures → 403 and no stream', async () => {
    const ok = await sim.callIn({ inboundUrl: `${base}/inbound`, from: '+14155550199', to: '+14155550100' });
    expect(ok.status).toBe(200);
    expect(ok.media).toBeDefined();
    await expect.poll(() => media[0]?.hello?.sampleRate).toBe(8000);
    for (const signature of ['bad', 'stale'] as const) {
      const bad = await sim.callIn({ inboundUrl: `${base}/inbound`, from: '+1', to: '+2', signature });
      expect(bad.status).toBe(403);
      expect(bad.media).toBeUndefined();
    }
    expect(refused).toEqual(['X-Plivo-Signature-V3 does not match', 'X-Plivo-Signature-V3 does not match']);
    expect(media).toHaveLength(1);
    // The same stream URL again (a replayed one-time token): refused, no second stream.
    const replay = await sim.replayStream(ok.media?.carrierCallId ?? '');
    expect(await replay.closed).toEqual({ code: 4401, reason: 'media token already used' });
    expect(media).toHaveLength(1);
    // The caller hangs up: stop, close, then the hangup callback.
    await ok.media?.hangUp();
    await expect.poll(() => media[0]?.close?.initiator).toBe('client');
    expect(statuses.at(-1)?.status).toBe('completed');
  });

  it('transfer: aleg_url on the answer URL serves the <Dial>; the stream ends as transferred; DTMF goes out', async () => {
    const call = await sim.callIn({
      inboundUrl: `${base}/inbound`,
      from: '+14155550199',
      to: '+14155550100',
    });
    await expect.poll(() => media[0]?.hello).toBeDefined();
    const transport = media[0]?.transport as PlivoMediaStream;
    const callUuid = transport.carrierCallId ?? '';
    expect(await transport.sendDtmf('12#', signal())).toEqual({ ok: true });
    expect(sim.restLog.at(-1)).toMatchObject({
      path: `/v1/Account/${sim.credentials.authId}/Call/${callUuid}/DTMF/`,
      body: { digits: '12#', leg: 'aleg' },
      action: 'dtmf',
    });
    expect(sim.calls.get(callUuid)?.dtmfSent).toEqual(['12#']);
    expect(await transport.sendDtmf('x', signal())).toMatchObject({ ok: false });

    expect(await transport.transfer({ type: 'number', number: '+14155550111' }, signal())).toEqual({
      ok: true,
    });
    const request = sim.restLog.at(-1);
    expect(request).toMatchObject({
      method: 'POST',
      path: `/v1/Account/${sim.credentials.authId}/Call/${callUuid}/`,
      action: 'transfer',
    });
    const body = request?.body as { legs: string; aleg_url: string; aleg_method: string };
    expect(body.legs).toBe('aleg');
    expect(body.aleg_method).toBe('POST');
    expect(body.aleg_url.startsWith(`${base}/answer/PC-in?transfer=`)).toBe(true);
    await call.media?.closed;
    await expect.poll(() => media[0]?.close?.cause).toBe('transferred');
    expect(sim.calls.get(callUuid)?.transfers).toEqual([
      { kind: 'dial', number: '+14155550111', attributes: {} },
    ]);
    expect(await transport.hangUp({ cause: 'completed', reason: 'forwarded' })).toEqual({ ok: true });
    expect(sim.restLog.filter((r) => r.action === 'hangup')).toEqual([]);
  });

  it('transfer needs the answer URL, a live call and a valid destination; bad credentials are refused', async () => {
    expect(
      await plivoCarrier.transfer('abc', { type: 'number', number: '+14155550111' }, account, signal()),
    ).toMatchObject({ ok: false });
    expect(
      await plivoCarrier.transfer('abc', { type: 'number', number: '12' }, account, signal(), urlsFor('x')),
    ).toMatchObject({ ok: false, error: expect.stringContaining('E.164') });
    expect(
      await plivoCarrier.transfer(
        'abc',
        { type: 'sip', sipUri: 'sip:a@b.c' },
        account,
        signal(),
        urlsFor('x'),
      ),
    ).toEqual({ ok: false, error: 'Plivo 404: not found' });
    const wrong = { ...account, credentials: { ...account.credentials, authToken: 'wrong' } };
    await expect(
      plivoCarrier.placeCall(
        {
          callId: 'x',
          from: '+14155550100',
          to: '+14155550199',
          urls: urlsFor('x'),
          ringTimeoutSeconds: 30,
          timeLimitSeconds: 60,
          machineDetection: false,
        },
        wrong,
        signal(),
      ),
    ).rejects.toThrow('Plivo 401: authentication failed');
  });

  it('plivoCallIds reads both ids of a webhook', () => {
    const req: CarrierHttpRequest = {
      method: 'POST',
      url: 'https://p/a',
      headers: {},
      rawBody: Buffer.from('CallUUID=c-1&RequestUUID=r-1'),
    };
    expect(plivoCallIds(req)).toEqual({ callUuid: 'c-1', requestUuid: 'r-1' });
  });
});
