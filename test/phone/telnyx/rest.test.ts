import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTelnyxSimulator,
  type TelnyxSimulator,
} from '../../../src/testing/carriers/telnyx/simulator.js';
import type { CarrierAccount, PlaceCallRequest } from '../../../src/transports/phone/carrier.js';
import { telnyxCarrier } from '../../../src/transports/phone/telnyx/carrier.js';
import { type MediaServer, startMediaServer, startWebhookReceiver } from './harness.js';

let sim: TelnyxSimulator;
let media: MediaServer;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
const account = (): CarrierAccount => ({ credentials: sim.credentials, apiBaseUrl: sim.apiBaseUrl });
const signal = () => AbortSignal.timeout(3000);

beforeAll(async () => {
  sim = createTelnyxSimulator({ swapEvery: 0 });
  await sim.start();
  media = await startMediaServer();
  receiver = await startWebhookReceiver(account, { mediaUrl: () => media.url });
});
afterAll(async () => {
  await sim.close();
  await media.close();
  await receiver.close();
});

const lastRest = () => sim.restLog.at(-1);
const lastBody = () => (sim.restLog.at(-1)?.body ?? {}) as Record<string, unknown>;
const statuses = (id: string) =>
  receiver.received.filter((w) => w.status?.carrierCallId === id).map((w) => w.status?.status);

function placeRequest(overrides: Partial<PlaceCallRequest> = {}): PlaceCallRequest {
  return {
    callId: 'PC-out-1',
    from: '+15550100002',
    to: '+15550100003',
    urls: {
      mediaUrl: media.url,
      statusUrl: receiver.url.replace('/inbound', '/status/PC-out-1'),
      answerUrl: 'https://unused.example/answer',
      afterUrl: 'https://unused.example/after',
    },
    ringTimeoutSeconds: 30,
    timeLimitSeconds: 3600,
    machineDetection: true,
    ...overrides,
  };
}

describe('Telnyx REST against the simulator', () => {
  it('placeCall sends the dial command with RTP streaming, webhook_url and AMD; busy maps to busy', async () => {
    const { carrierCallId } = await telnyxCarrier.placeCall(placeRequest(), account(), signal());
    expect(lastRest()).toEqual({
      method: 'POST',
      path: '/v2/calls',
      action: 'create-call',
      body: {
        connection_id: sim.credentials.connectionId,
        to: '+15550100003',
        from: '+15550100002',
        stream_url: media.url,
        stream_track: 'inbound_track',
        stream_bidirectional_mode: 'rtp',
        stream_bidirectional_codec: 'PCMU',
        webhook_url: receiver.url.replace('/inbound', '/status/PC-out-1'),
        webhook_url_method: 'POST',
        client_state: Buffer.from('PC-out-1').toString('base64'),
        command_id: 'dial-PC-out-1',
        timeout_secs: 30,
        time_limit_secs: 3600,
        answering_machine_detection: 'detect',
      },
    });
    const outbound = await sim.nextOutbound();
    expect(outbound.carrierCallId).toBe(carrierCallId);
    await outbound.fail('busy');
    expect(statuses(carrierCallId)).toEqual(['ringing', 'busy']);
    expect(receiver.received.at(-1)?.status).toMatchObject({ sipCode: 486 });
  });

  it('an answered outbound call: in-progress, AMD result, then media at the stream URL', async () => {
    const { carrierCallId } = await telnyxCarrier.placeCall(
      placeRequest({ callId: 'PC-out-2' }),
      account(),
      signal(),
    );
    const outbound = await sim.nextOutbound();
    const socket = media.nextSocket();
    const stream = await outbound.answer({ machine: true });
    const rec = await socket;
    await rec.waitFor('hello');
    expect(statuses(carrierCallId)).toEqual(['ringing', 'in-progress', 'in-progress']);
    expect(receiver.received.at(-1)?.status?.answeredBy).toBe('machine');
    await stream.hangUp();
    expect((await rec.waitFor('close')).info.reason).toBe('caller hung up');
    expect(statuses(carrierCallId).at(-1)).toBe('completed');
  });

  it('no-answer and failed outcomes map through call.hangup', async () => {
    for (const [outcome, status] of [
      ['no-answer', 'no-answer'],
      ['failed', 'failed'],
    ] as const) {
      const { carrierCallId } = await telnyxCarrier.placeCall(
        placeRequest({ machineDetection: false }),
        account(),
        signal(),
      );
      expect(lastBody().answering_machine_detection).toBeUndefined();
      await (await sim.nextOutbound()).fail(outcome);
      expect(statuses(carrierCallId).at(-1)).toBe(status);
    }
  });

  it('placeCall refuses bad numbers before any request, and reports Telnyx errors', async () => {
    const before = sim.restLog.length;
    await expect(
      telnyxCarrier.placeCall(placeRequest({ to: '555-0100' }), account(), signal()),
    ).rejects.toThrow('not E.164');
    await expect(telnyxCarrier.placeCall(placeRequest({ from: 'me' }), account(), signal())).rejects.toThrow(
      'from "me"',
    );
    expect(sim.restLog.length).toBe(before);
    const wrong = { ...account(), credentials: { ...sim.credentials, apiKey: 'KEYwrong' } };
    await expect(telnyxCarrier.placeCall(placeRequest(), wrong, signal())).rejects.toThrow(
      'Telnyx 401: 10009 Authentication failed',
    );
    const noConnection = { ...account(), credentials: { ...sim.credentials, connectionId: '' } };
    await expect(telnyxCarrier.placeCall(placeRequest(), noConnection, signal())).rejects.toThrow(
      'connectionId is missing',
    );
  });

  it('hangUp: 200 → ok; already ended (422 90018) → ok; wrong key → error', async () => {
    const { carrierCallId } = await telnyxCarrier.placeCall(placeRequest(), account(), signal());
    await sim.nextOutbound();
    expect(await telnyxCarrier.hangUp(carrierCallId, account(), signal())).toEqual({ ok: true });
    expect(lastRest()).toMatchObject({
      path: `/v2/calls/${encodeURIComponent(carrierCallId)}/actions/hangup`,
      action: 'hangup',
    });
    expect(await telnyxCarrier.hangUp(carrierCallId, account(), signal())).toEqual({ ok: true });
    const wrong = { ...account(), credentials: { ...sim.credentials, apiKey: 'KEYwrong' } };
    const refused = await telnyxCarrier.hangUp(carrierCallId, wrong, signal());
    expect(refused).toEqual({ ok: false, error: expect.stringContaining('401') });
  });

  it('transfer sends {to} (and from with a caller id); sip: URIs; bad destinations fail without a request', async () => {
    const { carrierCallId } = await telnyxCarrier.placeCall(placeRequest(), account(), signal());
    await sim.nextOutbound();
    expect(
      await telnyxCarrier.transfer(
        carrierCallId,
        { type: 'number', number: '+15550100009' },
        account(),
        signal(),
      ),
    ).toEqual({
      ok: true,
    });
    expect(lastRest()).toMatchObject({ action: 'transfer', body: { to: '+15550100009' } });
    expect(lastBody().from).toBeUndefined();
    await telnyxCarrier.transfer(
      carrierCallId,
      { type: 'number', number: '+15550100009', callerId: '+15550100002' },
      account(),
      signal(),
    );
    expect(lastRest()?.body).toEqual({ to: '+15550100009', from: '+15550100002' });
    await telnyxCarrier.transfer(
      carrierCallId,
      { type: 'sip', sipUri: 'sip:desk@pbx.example.com' },
      account(),
      signal(),
    );
    expect(lastRest()?.body).toEqual({ to: 'sip:desk@pbx.example.com' });
    const count = sim.restLog.length;
    expect(
      await telnyxCarrier.transfer(carrierCallId, { type: 'number', number: '0800' }, account(), signal()),
    ).toEqual({
      ok: false,
      error: 'transfer destination "0800" is not E.164',
    });
    expect(sim.restLog.length).toBe(count);
  });

  it('a transfer Telnyx refuses is a failed ControlResult', async () => {
    const rejecting = createTelnyxSimulator({ rejectTransfers: true });
    await rejecting.start();
    try {
      const acct = { credentials: rejecting.credentials, apiBaseUrl: rejecting.apiBaseUrl };
      const { carrierCallId } = await telnyxCarrier.placeCall(placeRequest(), acct, signal());
      const result = await telnyxCarrier.transfer(
        carrierCallId,
        { type: 'number', number: '+15550100009' },
        acct,
        signal(),
      );
      expect(result).toEqual({ ok: false, error: expect.stringContaining('90034 Transfer failed') });
    } finally {
      await rejecting.close();
    }
  });

  it('sendDtmf sends {digits, duration_millis}; invalid digits fail without a request', async () => {
    const { carrierCallId } = await telnyxCarrier.placeCall(placeRequest(), account(), signal());
    await sim.nextOutbound();
    expect(await telnyxCarrier.sendDtmf(carrierCallId, '12#', account(), signal())).toEqual({ ok: true });
    expect(lastRest()).toMatchObject({ action: 'dtmf', body: { digits: '12#', duration_millis: 250 } });
    const count = sim.restLog.length;
    expect((await telnyxCarrier.sendDtmf(carrierCallId, '1;2', account(), signal())).ok).toBe(false);
    expect(sim.restLog.length).toBe(count);
  });
});

describe('inbound calls through the simulator', () => {
  it('a signed call.initiated is answered with RTP streaming; the simulator connects the media', async () => {
    const socket = media.nextSocket();
    const result = await sim.callIn({ inboundUrl: receiver.url, from: '+15550100001', to: '+15550100002' });
    expect(result.status).toBe(200);
    expect(result.body).toBe('');
    const answer = sim.restLog.filter((r) => r.action === 'answer').at(-1);
    expect(answer?.body).toEqual({
      stream_url: media.url,
      stream_track: 'inbound_track',
      stream_bidirectional_mode: 'rtp',
      stream_bidirectional_codec: 'PCMU',
      client_state: Buffer.from('PC-test').toString('base64'),
      webhook_url: receiver.url.replace('/inbound', '/status/PC-test'),
      webhook_url_method: 'POST',
      command_id: 'answer-PC-test',
    });
    const rec = await socket;
    await rec.waitFor('hello');
    expect(result.media?.carrierCallId).toMatch(/^v3:sim-/);
    result.media?.press('5');
    await rec.waitFor('dtmf', (e) => e.digits === '5');
    await rec.transport.hangUp({ cause: 'completed', reason: 'assistant-ended-call' });
    expect(rec.control.hangUps).toBe(1);
  });

  it('bad and stale signatures are refused (403) and nothing is answered', async () => {
    const answers = sim.restLog.filter((r) => r.action === 'answer').length;
    const bad = await sim.callIn({
      inboundUrl: receiver.url,
      from: '+15550100001',
      to: '+15550100002',
      signature: 'bad',
    });
    expect(bad).toEqual({
      status: 403,
      body: 'telnyx-signature-ed25519 does not match the body and timestamp',
    });
    const stale = await sim.callIn({
      inboundUrl: receiver.url,
      from: '+15550100001',
      to: '+15550100002',
      signature: 'stale',
    });
    expect(stale.status).toBe(403);
    expect(stale.body).toMatch(/^stale telnyx-timestamp: 60\d s old/);
    expect(sim.restLog.filter((r) => r.action === 'answer').length).toBe(answers);
  });

  it('refuse: forwards to the fallback with transfer; else answers, speaks and hangs up', async () => {
    const forwarding = await startWebhookReceiver(account, {
      mediaUrl: () => media.url,
      refuse: { say: 'Sorry.', forwardTo: { type: 'number', number: '+15550100077' } },
    });
    const saying = await startWebhookReceiver(account, {
      mediaUrl: () => media.url,
      refuse: { say: 'Sorry.' },
    });
    try {
      const forwarded = await sim.callIn({
        inboundUrl: forwarding.url,
        from: '+15550100001',
        to: '+15550100002',
      });
      expect(forwarded.media).toBeUndefined();
      expect(lastRest()).toMatchObject({ action: 'transfer', body: { to: '+15550100077' } });
      const said = await sim.callIn({ inboundUrl: saying.url, from: '+15550100001', to: '+15550100002' });
      expect(said.media).toBeUndefined();
      const id = saying.received[0]?.status?.carrierCallId ?? 'none';
      const path = (action: string) => `/v2/calls/${encodeURIComponent(id)}/actions/${action}`;
      expect(sim.restLog.filter((r) => r.path.startsWith(path(''))).map((r) => r.path)).toEqual([
        path('answer'),
        path('speak'),
      ]);
      expect(sim.restLog.find((r) => r.path === path('speak'))?.body).toMatchObject({
        payload: 'Sorry.',
        voice: 'female',
      });
      await expect
        .poll(() => sim.restLog.some((r) => r.path === path('hangup')), { timeout: 4000 })
        .toBe(true);
    } finally {
      await forwarding.close();
      await saying.close();
    }
  });
});
