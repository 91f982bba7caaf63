// Whole Vonage calls between the simulator and the adapter (through the harness's stand-in
// routes, with call control bound to the REST API): signed answer webhook → NCCO → media
// socket; event webhooks verified and mapped; transfer closes the websocket leg without a
// hang-up; outbound answered, busy, no-answer, failed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createVonageSimulator,
  type VonageSimulator,
} from '../../../src/testing/carriers/vonage/simulator.js';
import type { CallControl, CarrierAccount } from '../../../src/transports/phone/carrier.js';
import { vonageCarrier } from '../../../src/transports/phone/vonage/carrier.js';
import { type Harness, startHarness } from './harness.js';

let sim: VonageSimulator;
let harness: Harness;
let account: CarrierAccount;
/** carrierCallId per Parley callId (the shared routes keep this in the call row). */
const carrierIds = new Map<string, string>();

function restControl(callId: string): CallControl {
  const uuid = () => carrierIds.get(callId) ?? callId.replace(/^PC-/, '');
  return {
    hangUp: () => vonageCarrier.hangUp(uuid(), account, AbortSignal.timeout(3000)),
    transfer: (to, signal) => vonageCarrier.transfer(uuid(), to, account, signal),
    sendDtmf: (digits, signal) => vonageCarrier.sendDtmf(uuid(), digits, account, signal),
  };
}

beforeEach(async () => {
  sim = createVonageSimulator();
  await sim.start();
  account = { credentials: sim.credentials, apiBaseUrl: sim.apiBaseUrl };
  harness = await startHarness({ account: () => account, control: restControl });
});

afterEach(async () => {
  await sim.close();
  await harness.close();
  carrierIds.clear();
});

const inbound = (signature?: 'valid' | 'bad' | 'stale') =>
  sim.callIn({
    inboundUrl: `${harness.baseUrl}/n1/inbound`,
    from: '+447700900001',
    to: '+447700900000',
    signature,
  });

describe('Vonage inbound calls', () => {
  it('refuses a bad or stale signature with 403 and opens no media', async () => {
    const bad = await inbound('bad');
    expect(bad.status).toBe(403);
    expect(bad.media).toBeUndefined();
    const stale = await inbound('stale');
    expect(stale.status).toBe(403);
    expect(harness.webhookRefusals).toEqual([
      'JWT signature does not match the signature secret',
      expect.stringMatching(/^JWT iat is 60\d s old \(limit 300 s\)$/),
    ]);
    expect(harness.sessions).toHaveLength(0);
  });

  it('connects the media, reports the lifecycle, carries DTMF both ways and ends on the caller hang-up', async () => {
    const answer = await inbound();
    expect(answer.status).toBe(200);
    const media = answer.media;
    if (!media) throw new Error('no media');
    const session = await harness.nextSession();
    const { recorder, transport } = session;
    await recorder.until(() => recorder.hello !== undefined);
    expect(session.callId).toBe(`PC-${media.carrierCallId}`);
    expect(harness.statuses.map((s) => s.status)).toEqual(['ringing', 'ringing', 'in-progress']);
    expect(harness.statuses.every((s) => s.carrierCallId === media.carrierCallId)).toBe(true);

    media.press('7');
    await recorder.until(() => recorder.dtmf.length === 1);
    expect(await transport.sendDtmf?.('42', AbortSignal.timeout(3000))).toEqual({ ok: true });
    expect(sim.call(media.carrierCallId)?.dtmfSent).toEqual(['42']);

    await media.speak(new Int16Array(800), 8000); // 100 ms at 8 kHz, resampled to 16 kHz
    await recorder.until(() => recorder.frames.length === 5);

    await media.hangUp();
    await recorder.until(() => recorder.close !== undefined);
    expect(recorder.close).toMatchObject({ initiator: 'client', protocolError: false });
    await expect.poll(() => harness.statuses.at(-1)?.status).toBe('completed');
    expect(sim.restLog.filter((r) => r.action === 'hangup')).toHaveLength(0);
  });

  it('a transfer moves the phone leg, closes the websocket leg, and no hang-up follows', async () => {
    const { media } = await inbound();
    const { recorder, transport } = await harness.nextSession();
    await recorder.until(() => recorder.hello !== undefined);
    const result = await transport.transfer?.(
      { type: 'number', number: '+15550003333' },
      AbortSignal.timeout(3000),
    );
    expect(result).toEqual({ ok: true });
    await recorder.until(() => recorder.close !== undefined);
    expect(recorder.close?.cause).toBe('transferred');
    expect(await transport.hangUp({ cause: 'completed', reason: 'forwarded' })).toEqual({ ok: true });
    expect(sim.restLog.map((r) => r.action)).toEqual(['transfer']);
    expect(sim.call(media?.carrierCallId ?? '')?.status).toBe('answered');
  });

  it('a rejected transfer keeps the caller on the line', async () => {
    await inbound();
    const { recorder, transport } = await harness.nextSession();
    await recorder.until(() => recorder.hello !== undefined);
    sim.transferOutcome = 'rejected';
    const result = await transport.transfer?.(
      { type: 'number', number: '+15550003333' },
      AbortSignal.timeout(3000),
    );
    expect(result).toMatchObject({ ok: false });
    expect(recorder.close).toBeUndefined();
    expect(await transport.hangUp({ cause: 'completed', reason: 'goodbye' })).toEqual({ ok: true });
    expect(sim.restLog.map((r) => r.action)).toEqual(['transfer', 'hangup']);
  });
});

describe('Vonage outbound calls', () => {
  async function placeCall(machineDetection = false) {
    const callId = `PC-out-${Math.random().toString(36).slice(2, 8)}`;
    const urls = {
      mediaUrl: `${harness.wsUrl}/${callId}/tok`,
      statusUrl: `${harness.baseUrl}/n1/status`,
      answerUrl: `${harness.baseUrl}/n1/answer`,
      afterUrl: `${harness.baseUrl}/n1/after`,
    };
    const { carrierCallId } = await vonageCarrier.placeCall(
      {
        callId,
        from: '+447700900000',
        to: '+15550004444',
        urls,
        ringTimeoutSeconds: 30,
        timeLimitSeconds: 600,
        machineDetection,
      },
      account,
      AbortSignal.timeout(3000),
    );
    carrierIds.set(callId, carrierCallId);
    return { carrierCallId, outbound: await sim.nextOutbound(2000) };
  }

  it('answered by a machine: AMD reported, media connected, the assistant hangs up through REST', async () => {
    const { carrierCallId, outbound } = await placeCall(true);
    const media = await outbound.answer({ machine: true });
    const { recorder, transport } = await harness.nextSession();
    await recorder.until(() => recorder.hello !== undefined);
    expect(harness.statuses.map((s) => [s.status, s.answeredBy])).toEqual([
      ['ringing', undefined],
      ['ringing', undefined],
      ['in-progress', undefined],
      ['in-progress', 'machine'],
    ]);
    expect(await transport.hangUp({ cause: 'completed', reason: 'voicemail' })).toEqual({ ok: true });
    expect(sim.restLog.at(-1)).toMatchObject({
      action: 'hangup',
      path: `/v1/calls/${carrierCallId}`,
      status: 204,
    });
    expect((await media.closed).code).toBe(1000);
    await expect.poll(() => harness.statuses.at(-1)?.status).toBe('completed');
    expect(harness.statuses.filter((s) => s.status === 'completed')).toHaveLength(1);
  });

  it.each([
    ['busy', 'busy'],
    ['no-answer', 'no-answer'],
    ['failed', 'failed'],
  ] as const)('never answered (%s) ends with one terminal status %s', async (outcome, status) => {
    const { carrierCallId, outbound } = await placeCall();
    await outbound.fail(outcome);
    await expect.poll(() => harness.statuses.at(-1)?.status).toBe(status);
    expect(harness.statuses.map((s) => s.status)).toEqual(['ringing', 'ringing', status]);
    expect(harness.statuses.every((s) => s.carrierCallId === carrierCallId)).toBe(true);
    expect(harness.sessions).toHaveLength(0);
  });
});
