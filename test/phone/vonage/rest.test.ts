// The Vonage REST calls against the simulator's fake Voice API (which checks the RS256 JWT on
// every request): exact request shapes for placing, hanging up (already ended = success),
// transferring and sending DTMF.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVonageSimulator,
  type VonageSimulator,
} from '../../../src/testing/carriers/vonage/simulator.js';
import type { CarrierAccount, PlaceCallRequest } from '../../../src/transports/phone/carrier.js';
import { vonageCarrier } from '../../../src/transports/phone/vonage/carrier.js';

let sim: VonageSimulator;
let account: CarrierAccount;
const signal = () => AbortSignal.timeout(3000);

const place: PlaceCallRequest = {
  callId: 'PC-0001',
  from: '+447700900000',
  to: '+15550001111',
  urls: {
    mediaUrl: 'ws://127.0.0.1:9/media/PC-0001/tok',
    statusUrl: 'http://127.0.0.1:9/n1/status',
    answerUrl: 'http://127.0.0.1:9/n1/answer',
    afterUrl: 'http://127.0.0.1:9/n1/after',
  },
  ringTimeoutSeconds: 30,
  timeLimitSeconds: 900,
  machineDetection: true,
};

beforeAll(async () => {
  sim = createVonageSimulator();
  await sim.start();
  account = { credentials: sim.credentials, apiBaseUrl: sim.apiBaseUrl };
});

afterAll(async () => {
  await sim.close();
});

/** A call the simulator knows (placed through the API), its REST log position. */
async function placedCall(overrides: Partial<PlaceCallRequest> = {}) {
  const { carrierCallId } = await vonageCarrier.placeCall({ ...place, ...overrides }, account, signal());
  const outbound = await sim.nextOutbound(1000);
  return { carrierCallId, outbound, logFrom: sim.restLog.length };
}

describe('Vonage REST', () => {
  it('places a call with the NCCO inline and the exact body', async () => {
    const before = sim.restLog.length;
    const { carrierCallId, outbound } = await placedCall();
    expect(outbound).toMatchObject({ carrierCallId, from: '+447700900000', to: '+15550001111' });
    const entry = sim.restLog[before];
    expect(entry).toMatchObject({ method: 'POST', path: '/v1/calls', action: 'create-call', status: 201 });
    expect(entry?.body).toEqual({
      to: [{ type: 'phone', number: '15550001111' }],
      from: { type: 'phone', number: '447700900000' },
      ncco: [
        {
          action: 'connect',
          eventUrl: [place.urls.statusUrl],
          from: '447700900000',
          endpoint: [
            {
              type: 'websocket',
              uri: place.urls.mediaUrl,
              'content-type': 'audio/l16;rate=16000',
              headers: { callId: 'PC-0001' },
            },
          ],
        },
      ],
      event_url: [place.urls.statusUrl],
      event_method: 'POST',
      ringing_timer: 30,
      length_timer: 900,
      machine_detection: 'continue',
    });
  });

  it('clamps the timers to what Vonage accepts and leaves AMD out when not asked', async () => {
    const before = sim.restLog.length;
    await placedCall({ ringTimeoutSeconds: 600, timeLimitSeconds: 100_000, machineDetection: false });
    const body = sim.restLog[before]?.body as Record<string, unknown>;
    expect(body.ringing_timer).toBe(120);
    expect(body.length_timer).toBe(7200);
    expect(body).not.toHaveProperty('machine_detection');
  });

  it('refuses numbers that are not E.164 before calling Vonage', async () => {
    const before = sim.restLog.length;
    await expect(vonageCarrier.placeCall({ ...place, to: '555-0100' }, account, signal())).rejects.toThrow(
      /E\.164/,
    );
    expect(sim.restLog.length).toBe(before);
  });

  it('a wrong private key gets 401 from the simulator and a clear error', async () => {
    const stranger = String(
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const bad = { ...account, credentials: { ...account.credentials, privateKey: stranger } };
    await expect(vonageCarrier.placeCall(place, bad, signal())).rejects.toThrow(/HTTP 401/);
    expect(sim.restLog.at(-1)).toMatchObject({
      status: 401,
      authProblem: expect.stringMatching(/signature/),
    });
    const { carrierCallId } = await placedCall();
    const result = await vonageCarrier.hangUp(carrierCallId, bad, signal());
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/hang-up: HTTP 401/) });
  });

  it('hangs up the phone leg; already ended and unknown calls are success', async () => {
    const { carrierCallId, logFrom } = await placedCall();
    expect(await vonageCarrier.hangUp(carrierCallId, account, signal())).toEqual({ ok: true });
    expect(sim.restLog[logFrom]).toMatchObject({
      method: 'PUT',
      path: `/v1/calls/${carrierCallId}`,
      body: { action: 'hangup' },
      action: 'hangup',
      status: 204,
    });
    expect(sim.call(carrierCallId)?.status).toBe('completed');
    expect(await vonageCarrier.hangUp(carrierCallId, account, signal())).toEqual({ ok: true });
    expect(sim.restLog.at(-1)?.status).toBe(400);
    expect(await vonageCarrier.hangUp('00000000-0000-0000-0000-000000000000', account, signal())).toEqual({
      ok: true,
    });
    expect(sim.restLog.at(-1)?.status).toBe(404);
  });

  it('transfers to a number and to a SIP URI with an NCCO', async () => {
    const { carrierCallId, logFrom } = await placedCall();
    const number = await vonageCarrier.transfer(
      carrierCallId,
      { type: 'number', number: '+15550002222' },
      account,
      signal(),
    );
    expect(number).toEqual({ ok: true });
    expect(sim.restLog[logFrom]).toMatchObject({
      method: 'PUT',
      path: `/v1/calls/${carrierCallId}`,
      action: 'transfer',
      status: 204,
      body: {
        action: 'transfer',
        destination: {
          type: 'ncco',
          ncco: [{ action: 'connect', endpoint: [{ type: 'phone', number: '15550002222' }] }],
        },
      },
    });
    const withCallerId = await vonageCarrier.transfer(
      carrierCallId,
      { type: 'number', number: '+15550002222', callerId: '+447700900000' },
      account,
      signal(),
    );
    expect(withCallerId).toEqual({ ok: true });
    expect(sim.restLog.at(-1)?.body).toMatchObject({ destination: { ncco: [{ from: '447700900000' }] } });
    const sip = await vonageCarrier.transfer(
      carrierCallId,
      { type: 'sip', sipUri: 'sip:desk@pbx.example.com' },
      account,
      signal(),
    );
    expect(sip).toEqual({ ok: true });
    expect(sim.restLog.at(-1)?.body).toEqual({
      action: 'transfer',
      destination: {
        type: 'ncco',
        ncco: [{ action: 'connect', endpoint: [{ type: 'sip', uri: 'sip:desk@pbx.example.com' }] }],
      },
    });
    expect(sim.call(carrierCallId)?.transfers).toHaveLength(3);
  });

  it('a refused transfer is an error that keeps the call', async () => {
    const { carrierCallId } = await placedCall();
    sim.transferOutcome = 'rejected';
    try {
      const result = await vonageCarrier.transfer(
        carrierCallId,
        { type: 'number', number: '+15550002222' },
        account,
        signal(),
      );
      expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/transfer: HTTP 400/) });
    } finally {
      sim.transferOutcome = 'ok';
    }
    expect(sim.call(carrierCallId)?.status).not.toBe('completed');
    const before = sim.restLog.length;
    const bad = await vonageCarrier.transfer(
      carrierCallId,
      { type: 'sip', sipUri: 'tel:123' },
      account,
      signal(),
    );
    expect(bad).toMatchObject({ ok: false, error: /sip: URI/ });
    expect(sim.restLog.length).toBe(before);
  });

  it('sends DTMF digits', async () => {
    const { carrierCallId, logFrom } = await placedCall();
    expect(await vonageCarrier.sendDtmf(carrierCallId, '12#*', account, signal())).toEqual({ ok: true });
    expect(sim.restLog[logFrom]).toMatchObject({
      method: 'PUT',
      path: `/v1/calls/${carrierCallId}/dtmf`,
      body: { digits: '12#*' },
      action: 'dtmf',
      status: 200,
    });
    expect(sim.call(carrierCallId)?.dtmfSent).toEqual(['12#*']);
    expect(await vonageCarrier.sendDtmf(carrierCallId, '12x', account, signal())).toMatchObject({
      ok: false,
    });
    expect(sim.restLog.length).toBe(logFrom + 1);
  });

  it('reports an unreachable API as an error, and rethrows an abort', async () => {
    const down = { ...account, apiBaseUrl: 'http://127.0.0.1:9' };
    expect(await vonageCarrier.hangUp('abc', down, signal())).toMatchObject({
      ok: false,
      error: /Vonage hang-up/,
    });
    const aborted = AbortSignal.abort(new Error('aborted by test'));
    await expect(vonageCarrier.hangUp('abc', account, aborted)).rejects.toThrow(/aborted by test/);
  });
});
