import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTwilioSimulator } from '../../../src/testing/carriers/twilio/simulator.js';
import type { CarrierAccount, PlaceCallRequest } from '../../../src/transports/phone/carrier.js';
import { twilioCarrier } from '../../../src/transports/phone/twilio/carrier.js';
import { TwilioApiError } from '../../../src/transports/phone/twilio/rest.js';
import { MiniRoutes } from './support.js';

const sim = createTwilioSimulator();
const account = (): CarrierAccount => ({ credentials: sim.credentials, apiBaseUrl: sim.apiBaseUrl });
const routes = new MiniRoutes(account);
const signal = () => AbortSignal.timeout(3000);

beforeAll(async () => {
  await sim.start();
  await routes.start();
});
afterAll(async () => {
  await sim.close();
  await routes.close();
});
beforeEach(async () => {
  await sim.settled();
  sim.restLog.length = 0;
  routes.statuses.length = 0;
  routes.statusVerifications.length = 0;
});

function request(callId: string, overrides: Partial<PlaceCallRequest> = {}): PlaceCallRequest {
  const urls = routes.urls(callId);
  return {
    callId,
    from: '+15550001111',
    to: '+15550002222',
    // Twilio drops the query string of a Stream url; the simulator must too.
    urls: { ...urls, mediaUrl: `${urls.mediaUrl}?dropped=1` },
    ringTimeoutSeconds: 30,
    timeLimitSeconds: 600,
    machineDetection: false,
    ...overrides,
  };
}

describe('Twilio REST against the simulator', () => {
  it('places a call with the exact create-call form', async () => {
    const { carrierCallId } = await twilioCarrier.placeCall(
      request('PC-out1', { machineDetection: true }),
      account(),
      signal(),
    );
    const outbound = await sim.nextOutbound();
    expect(outbound.carrierCallId).toBe(carrierCallId);
    expect(outbound).toMatchObject({ from: '+15550001111', to: '+15550002222' });
    expect(sim.restLog).toHaveLength(1);
    const [create] = sim.restLog;
    expect(create).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${sim.credentials.accountSid}/Calls.json`,
      action: 'create-call',
    });
    expect(create?.body).toEqual({
      To: '+15550002222',
      From: '+15550001111',
      Twiml: expect.stringContaining('<Parameter name="callId" value="PC-out1"/>'),
      StatusCallback: routes.urls('PC-out1').statusUrl,
      StatusCallbackMethod: 'POST',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      Timeout: '30',
      TimeLimit: '600',
      MachineDetection: 'DetectMessageEnd',
      AsyncAmd: 'true',
      AsyncAmdStatusCallback: routes.urls('PC-out1').statusUrl,
      AsyncAmdStatusCallbackMethod: 'POST',
    });
    await outbound.fail('no-answer');
  });

  it('an unanswered call reports ringing then its outcome, every callback signed', async () => {
    for (const outcome of ['busy', 'no-answer', 'failed'] as const) {
      routes.statuses.length = 0;
      await twilioCarrier.placeCall(request(`PC-${outcome}`), account(), signal());
      await (await sim.nextOutbound()).fail(outcome);
      await sim.settled();
      expect(routes.statuses.map((s) => s.status)).toEqual(['ringing', 'ringing', outcome]);
      expect(routes.statuses.at(-1)?.sipCode).toBeGreaterThan(400);
    }
    expect(routes.statusVerifications.every((v) => v.ok)).toBe(true);
  });

  it('answers into a media stream (query dropped, call id passed), with async AMD', async () => {
    const session = routes.nextSession();
    await twilioCarrier.placeCall(request('PC-amd', { machineDetection: true }), account(), signal());
    const media = await (await sim.nextOutbound()).answer({ machine: true });
    const s = await session;
    expect(s.path).toBe('/media/PC-amd/tok123');
    expect(s.upgrade).toEqual({ ok: true });
    await s.recorder.until(() => s.recorder.hello !== undefined);
    await sim.settled();
    expect(routes.statuses.map((r) => [r.status, r.answeredBy])).toEqual([
      ['ringing', undefined],
      ['ringing', undefined],
      ['in-progress', undefined],
      ['in-progress', 'machine'],
    ]);
    // Parley hangs up: REST Status=completed, the stream gets stop, the last callback is completed.
    expect(await twilioCarrier.hangUp(media.carrierCallId, account(), signal())).toEqual({ ok: true });
    await media.closed;
    await sim.settled();
    expect(sim.restLog.at(-1)).toMatchObject({
      path: `/2010-04-01/Accounts/${sim.credentials.accountSid}/Calls/${media.carrierCallId}.json`,
      body: { Status: 'completed' },
      action: 'hangup',
    });
    expect(routes.statuses.at(-1)).toMatchObject({ status: 'completed', carrierCallId: media.carrierCallId });
    await s.recorder.until(() => s.recorder.close !== undefined);
    // Hanging up a call that already ended, or one Twilio does not know, is success.
    expect(await twilioCarrier.hangUp(media.carrierCallId, account(), signal())).toEqual({ ok: true });
    expect(await twilioCarrier.hangUp('CA00000000000000000000000000000000', account(), signal())).toEqual({
      ok: true,
    });
  });

  it('transfers a live call with <Dial>; the stream stops as a transfer', async () => {
    const session = routes.nextSession();
    await twilioCarrier.placeCall(request('PC-xfer'), account(), signal());
    const media = await (await sim.nextOutbound()).answer();
    const s = await session;
    await s.recorder.until(() => s.recorder.hello !== undefined);
    // The transport's control goes to the carrier, as the shared routes bind it.
    s.control.transfer = async (to) =>
      twilioCarrier.transfer(media.carrierCallId, to as never, account(), signal());
    const result = await s.transport.transfer?.(
      { type: 'number', number: '+15550100', callerId: '+15550001111' },
      signal(),
    );
    expect(result).toEqual({ ok: true });
    expect(sim.restLog.at(-1)).toMatchObject({
      action: 'transfer',
      body: {
        Twiml:
          '<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+15550001111"><Number>+15550100</Number></Dial></Response>',
      },
    });
    await s.recorder.until(() => s.recorder.close !== undefined);
    expect(s.recorder.close).toMatchObject({ cause: 'transferred' });
    expect(sim.calls.get(media.carrierCallId)?.dialed).toEqual({
      callerId: '+15550001111',
      number: '+15550100',
    });
    expect(await s.transport.hangUp({ cause: 'completed', reason: 'forwarded' })).toEqual({ ok: true });
    expect(sim.restLog.filter((r) => r.action === 'hangup')).toHaveLength(0);
    // SIP destinations dial <Sip>; a bad destination never reaches Twilio; an ended call cannot be moved.
    await twilioCarrier.hangUp(media.carrierCallId, account(), signal());
    const before = sim.restLog.length;
    expect(
      await twilioCarrier.transfer(
        media.carrierCallId,
        { type: 'number', number: '0800' },
        account(),
        signal(),
      ),
    ).toEqual({
      ok: false,
      error: 'destination "0800" is not an E.164 number',
    });
    expect(sim.restLog).toHaveLength(before);
    const ended = await twilioCarrier.transfer(
      media.carrierCallId,
      { type: 'sip', sipUri: 'sip:desk@pbx.test' },
      account(),
      signal(),
    );
    expect(ended).toEqual({
      ok: false,
      error: 'Twilio transfer failed: HTTP 400 (code 21220): Call is not in-progress. Cannot redirect.',
    });
    expect(sim.restLog.at(-1)?.body).toEqual({
      Twiml:
        '<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Sip>sip:desk@pbx.test</Sip></Dial></Response>',
    });
  });

  it('ends the call when Parley closes the stream: Twilio fetches the Connect action (<Hangup/>)', async () => {
    const session = routes.nextSession();
    await twilioCarrier.placeCall(request('PC-close'), account(), signal());
    const outbound = await sim.nextOutbound();
    const media = await outbound.answer();
    const s = await session;
    await s.recorder.until(() => s.recorder.hello !== undefined);
    s.recorder.close = undefined;
    await s.transport.hangUp({ cause: 'taken-over', reason: 'moved' }); // closes the socket without REST
    await media.closed;
    await sim.settled();
    expect(
      sim.webhooks.sent.some(
        (w) => w.url === routes.urls('PC-close').afterUrl && w.body.includes('<Hangup/>'),
      ),
    ).toBe(true);
    expect(sim.calls.get(outbound.carrierCallId)?.status).toBe('completed');
    expect(routes.statuses.at(-1)?.status).toBe('completed');
  });

  it('says DTMF out is in-band on Twilio', async () => {
    const result = await twilioCarrier.sendDtmf('CA1', '123', account(), signal());
    expect(result.ok).toBe(false);
    expect(sim.restLog).toHaveLength(0);
  });

  it('reports REST errors clearly', async () => {
    const wrong: CarrierAccount = { ...account(), credentials: { ...sim.credentials, authToken: 'wrong' } };
    await expect(twilioCarrier.placeCall(request('PC-e'), wrong, signal())).rejects.toThrow(
      'Twilio create call failed: HTTP 401 (code 20003): Authentication Error - invalid username',
    );
    await expect(twilioCarrier.placeCall(request('PC-e'), wrong, signal())).rejects.toBeInstanceOf(
      TwilioApiError,
    );
    expect(await twilioCarrier.hangUp('CA1', wrong, signal())).toEqual({
      ok: false,
      error: 'Twilio hang-up failed: HTTP 401 (code 20003): Authentication Error - invalid username',
    });
    await expect(
      twilioCarrier.placeCall(request('PC-e', { from: 'me' }), account(), signal()),
    ).rejects.toThrow('from "me" is not an E.164 number');
    const down: CarrierAccount = { ...account(), apiBaseUrl: 'http://127.0.0.1:9' };
    expect((await twilioCarrier.hangUp('CA1', down, signal())).ok).toBe(false);
    const aborted = AbortSignal.abort();
    expect(await twilioCarrier.hangUp('CA1', account(), aborted)).toEqual({
      ok: false,
      error: 'Twilio hang-up failed: aborted',
    });
  });
});

describe('Twilio inbound through the simulator', () => {
  it('a signed call is answered with a stream that starts; the caller hangs up', async () => {
    const session = routes.nextSession();
    const result = await sim.callIn({
      inboundUrl: `${routes.base}/inbound`,
      from: '+15557770001',
      to: '+15550001111',
      statusUrl: `${routes.base}/status`,
    });
    expect(result.status).toBe(200);
    expect(result.body).toContain('<Connect action=');
    const s = await session;
    await s.recorder.until(() => s.recorder.hello !== undefined);
    expect(s.upgrade).toEqual({ ok: true });
    await result.media?.hangUp();
    await s.recorder.until(() => s.recorder.close !== undefined);
    await sim.settled();
    expect(routes.statuses.at(-1)).toMatchObject({
      status: 'completed',
      carrierCallId: result.media?.carrierCallId,
    });
  });

  it('a badly signed call gets 403 and no stream; a stale one is validly signed (Twilio has no timestamp)', async () => {
    const bad = await sim.callIn({
      inboundUrl: `${routes.base}/inbound`,
      from: '+15557770001',
      to: '+15550001111',
      signature: 'bad',
    });
    expect(bad).toEqual({ status: 403, body: 'X-Twilio-Signature does not match' });
    const stale = await sim.callIn({
      inboundUrl: `${routes.base}/inbound`,
      from: '+15557770001',
      to: '+15550001111',
      signature: 'stale',
    });
    expect(stale.status).toBe(200);
    await stale.media?.hangUp();
  });

  it('a badly signed media upgrade is visible to the route', async () => {
    const session = routes.nextSession();
    const result = await sim.callIn({
      inboundUrl: `${routes.base}/inbound`,
      from: '+15557770001',
      to: '+15550001111',
      mediaSignature: 'bad',
    });
    const s = await session;
    expect(s.upgrade).toEqual({ ok: false, reason: 'X-Twilio-Signature does not match' });
    await result.media?.hangUp();
  });
});
