// Every carrier simulator of src/testing/carriers/index.ts through the real server, in the
// carrier's own dialect over real sockets: inbound, outbound (answered, busy, no-answer, failed),
// voicemail (the carrier's answering-machine detection), barge-in, DTMF both ways, transfer and failed transfer, the assistant's hang-up after its goodbye, the caller's
// hang-up mid-reply, refused signatures and media tokens. Each call ends with exactly one
// terminal status-update and one end-of-call-report carrying the phone fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSFER_FAILED_MESSAGE } from '../../src/engine/call-control.js';
import { carrierSimulators } from '../../src/testing/carriers/index.js';
import type { CarrierSimulator, SimulatedMedia } from '../../src/testing/carriers/simulator.js';
import { api } from '../calls/support.js';
import {
  addNumber,
  type Conformance,
  callIdOf,
  callsOf,
  connectRaw,
  eventsOf,
  expectEnded,
  heardInTranscript,
  mediaUrlIn,
  say,
  startConformanceServer,
  TRANSFER_TO,
  VOICEMAIL_MESSAGE,
} from './support/conformance.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformanceServer();
}, 120_000);
afterAll(async () => c?.close());

let caller = 5_005_550_100;
/** A new caller number per case: the receiver's events are told apart by it. */
const nextCaller = () => `+1${caller++}`;

describe.each(carrierSimulators.map((s, i) => ({ ...s, number: `+1415555020${i}` })))(
  '$carrier',
  ({ carrier, create, number }) => {
    let sim: CarrierSimulator;
    let numberId: string;
    let inboundUrl: string;
    const refusedCallers: string[] = [];

    beforeAll(async () => {
      sim = create();
      await sim.start();
      ({ id: numberId, inboundUrl } = await addNumber(c, sim, number));
    }, 60_000);
    afterAll(async () => sim?.close());

    const inbound = { carrier, direction: 'inbound' as const, assistantNumber: number };
    const outbound = { carrier, direction: 'outbound' as const, assistantNumber: number };

    /** An inbound call whose welcome has played; returns the media and the call id. */
    async function callIn(
      from = nextCaller(),
    ): Promise<{ media: SimulatedMedia; callId: string; from: string }> {
      const answered = await sim.callIn({ inboundUrl, from, to: number });
      expect(answered.status, answered.body).toBe(200);
      const media = answered.media;
      if (!media) throw new Error(`no media stream: ${answered.body}`);
      const callId = await callIdOf(c, from);
      await heardInTranscript(c, callId, 'Hello, this is Parley.');
      await expect.poll(() => media.marksPlayed.length, { timeout: 10_000 }).toBeGreaterThan(0);
      return { media, callId, from };
    }

    async function callOut(to = nextCaller(), assistantId = c.assistantId) {
      const res = await api(c.cs, 'POST', '/v1/calls', {
        assistantId,
        phoneNumberId: numberId,
        customer: { number: to },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      expect(res.json.id).toMatch(/^PC-/);
      const placed = await sim.nextOutbound(10_000);
      // Some carriers write numbers without the "+" (Plivo).
      expect([placed.from, placed.to].map((n) => n.replace(/^\+/, ''))).toEqual([
        number.slice(1),
        to.slice(1),
      ]);
      return { callId: res.json.id as string, placed, to };
    }

    it('inbound: answered, a turn, the caller hangs up', async () => {
      const { media, callId, from } = await callIn();
      await say(c, media, 'hello');
      await heardInTranscript(c, callId, 'You said: hello.');
      await media.hangUp();
      await expectEnded(c, callId, {
        ...inbound,
        userNumber: from,
        status: 'finished',
        phoneCallStatus: 'completed',
        endedReason: 'customer-ended-call',
      });
    }, 60_000);

    it('outbound: answered, welcome heard, the callee hangs up', async () => {
      const { callId, placed, to } = await callOut();
      const media = await placed.answer();
      await heardInTranscript(c, callId, 'Hello, this is Parley.');
      await expect.poll(() => media.marksPlayed.length, { timeout: 10_000 }).toBeGreaterThan(0);
      await media.hangUp();
      await expectEnded(c, callId, {
        ...outbound,
        userNumber: to,
        status: 'finished',
        phoneCallStatus: 'completed',
      });
    }, 60_000);

    it.each([
      ['busy', 'customer-busy'],
      ['no-answer', 'customer-did-not-answer'],
      ['failed', `${carrier}-failed-to-connect-call`],
    ] as const)(
      'outbound %s: one terminal status-update and one report',
      async (outcome, endedReason) => {
        const { callId, placed, to } = await callOut();
        await placed.fail(outcome);
        await expectEnded(c, callId, {
          ...outbound,
          userNumber: to,
          status: 'finished',
          phoneCallStatus: outcome,
          endedReason,
        });
      },
      60_000,
    );

    it('outbound voicemail: the machine gets the message, then the call ends voicemail', async () => {
      const { callId, placed, to } = await callOut(nextCaller(), c.voicemailAssistantId);
      // The call was placed asking the carrier's answering-machine detection.
      const placedWith = sim.restLog.filter((r) => r.action === 'create-call').at(-1);
      expect(JSON.stringify(placedWith?.body)).toMatch(/machine/i);
      const media = await placed.answer({ machine: true });
      await heardInTranscript(c, callId, VOICEMAIL_MESSAGE);
      const report = await expectEnded(c, callId, {
        ...outbound,
        userNumber: to,
        status: 'finished',
        phoneCallStatus: 'completed',
        endedReason: 'voicemail',
      });
      expect(report.call.callEndTriggerBy).toBe('bot');
      // The message played to the end (not cut, its mark came back) before the line was hung up.
      const left = (report.messages as { text?: string; interrupted?: boolean }[]).find(
        (m) => m.text === VOICEMAIL_MESSAGE,
      );
      expect(left, 'the voicemail message in the transcript').toBeDefined();
      expect(left?.interrupted ?? false).toBe(false);
      expect(media.marksPlayed.length).toBeGreaterThanOrEqual(1);
      expect(sim.restLog.some((r) => r.action === 'hangup')).toBe(true);
    }, 60_000);

    it('outbound voicemail without a message: the call hangs up at once, ended voicemail', async () => {
      const { callId, placed, to } = await callOut(nextCaller(), c.silentVoicemailAssistantId);
      const hangupsBefore = sim.restLog.filter((r) => r.action === 'hangup').length;
      await placed.answer({ machine: true });
      const report = await expectEnded(c, callId, {
        ...outbound,
        userNumber: to,
        status: 'finished',
        phoneCallStatus: 'completed',
        endedReason: 'voicemail',
      });
      expect(
        (report.messages as { role: string; text?: string }[]).some((m) =>
          m.text?.includes(VOICEMAIL_MESSAGE),
        ),
      ).toBe(false);
      await expect
        .poll(() => sim.restLog.filter((r) => r.action === 'hangup').length, { timeout: 10_000 })
        .toBeGreaterThan(hangupsBefore);
    }, 60_000);

    it('barge-in: the caller talks over a long reply, the carrier gets a clear', async () => {
      const { media, callId, from } = await callIn();
      const heardBefore = media.heard().length;
      await say(c, media, 'tell me a long story');
      // The reply is playing: the caller has heard a second of it.
      await expect
        .poll(() => media.heard().length - heardBefore, { timeout: 15_000 })
        .toBeGreaterThan(media.heardRate * 2);
      const clears = media.clears;
      await say(c, media, 'stop please');
      await expect.poll(() => media.clears, { timeout: 10_000 }).toBeGreaterThan(clears);
      await media.hangUp();
      const report = await expectEnded(c, callId, { ...inbound, userNumber: from });
      // What the caller heard of the story is kept, marked interrupted.
      expect(
        (report.messages as { text: string; interrupted?: boolean }[]).some(
          (m) => m.interrupted && m.text.startsWith('This is sentence number 1'),
        ),
      ).toBe(true);
    }, 60_000);

    it('DTMF in: keypad digits reach the conversation as a user turn', async () => {
      const { media, callId, from } = await callIn();
      media.press('42#');
      await c.cs.receiver.waitFor(
        () =>
          eventsOf(c, callId).some((e) =>
            (e.messages ?? []).some(
              (m: { role: string; text: string }) => m.role === 'user' && m.text === '42',
            ),
          ),
        15_000,
        'the digits as a user message',
      );
      await heardInTranscript(c, callId, 'You said: 42.');
      await media.hangUp();
      await expectEnded(c, callId, { ...inbound, userNumber: from });
    }, 60_000);

    it('DTMF out: the dtmf tool sends digits through the carrier', async () => {
      const { media, callId, from } = await callIn();
      await say(c, media, 'press keys');
      const inBand = () => ('heardDigits' in media ? (media as { heardDigits(): string }).heardDigits() : '');
      await expect
        .poll(() => sim.restLog.some((r) => r.action === 'dtmf') || inBand().includes('123'), {
          timeout: 15_000,
        })
        .toBe(true);
      await media.hangUp();
      await expectEnded(c, callId, { ...inbound, userNumber: from });
    }, 60_000);

    it('transfer: the message plays, the carrier transfers, the call ends forwarded', async () => {
      const { media, callId, from } = await callIn();
      await say(c, media, 'transfer me');
      await expect
        .poll(() => sim.restLog.some((r) => r.action === 'transfer'), { timeout: 15_000 })
        .toBe(true);
      const report = await expectEnded(c, callId, {
        ...inbound,
        userNumber: from,
        status: 'forwarded',
        phoneCallStatus: 'forwarded',
        endedReason: 'assistant-forwarded-call',
      });
      expect(report.call.forwardedTo).toBe(TRANSFER_TO);
      // The carrier's stop after the transfer is not a hang-up: nothing cut the forwarded call.
      const transferAt = sim.restLog.findIndex((r) => r.action === 'transfer');
      expect(sim.restLog.slice(transferAt).some((r) => r.action === 'hangup')).toBe(false);
    }, 60_000);

    it('failed transfer: the caller is back with the assistant, with an error event', async () => {
      const rejecting = create({ rejectTransfers: true });
      await rejecting.start();
      const line = number.replace(/0(\d)$/, '9$1');
      try {
        const { inboundUrl: rejectingUrl } = await addNumber(c, rejecting, line);
        const from = nextCaller();
        const answered = await rejecting.callIn({ inboundUrl: rejectingUrl, from, to: line });
        const media = answered.media;
        if (!media) throw new Error(`no media: ${answered.body}`);
        const callId = await callIdOf(c, from);
        await heardInTranscript(c, callId, 'Hello, this is Parley.');
        await say(c, media, 'transfer me');
        await expect
          .poll(() => rejecting.restLog.some((r) => r.action === 'transfer'), { timeout: 15_000 })
          .toBe(true);
        await c.cs.receiver.waitFor(
          () => eventsOf(c, callId).some((e) => e.type === 'error'),
          15_000,
          'the error event of the failed transfer',
        );
        const error = eventsOf(c, callId).find((e) => e.type === 'error');
        expect(error.error).toMatchObject({ type: 'tool_error', code: 'transfer_failed', provider: carrier });
        // The caller hears the apology: its mark comes back played, its text is in the transcript.
        const marksBefore = media.marksPlayed.length;
        await heardInTranscript(c, callId, TRANSFER_FAILED_MESSAGE);
        await expect.poll(() => media.marksPlayed.length, { timeout: 15_000 }).toBeGreaterThan(marksBefore);
        // The conversation goes on.
        await say(c, media, 'hello again');
        await heardInTranscript(c, callId, 'You said: hello again.');
        await media.hangUp();
        const report = await expectEnded(c, callId, {
          ...inbound,
          assistantNumber: line,
          userNumber: from,
          status: 'finished',
          phoneCallStatus: 'completed',
          endedReason: 'customer-ended-call',
        });
        expect(report.call.forwardedTo ?? '').toBe('');
        // The stream was never stopped by the carrier: the failed transfer left the line up.
        expect(rejecting.restLog.filter((r) => r.action === 'transfer')).toHaveLength(1);
      } finally {
        await rejecting.close();
      }
    }, 60_000);

    it('the assistant hangs up after its goodbye has played', async () => {
      const { media, callId, from } = await callIn();
      // The caller's "goodbye" is an end-call phrase: the call ends on the caller's word
      // (customer-ended-call), and the assistant says its goodbye and hangs up the line.
      await say(c, media, 'goodbye');
      await expect.poll(() => sim.restLog.some((r) => r.action === 'hangup'), { timeout: 20_000 }).toBe(true);
      await expectEnded(c, callId, { ...inbound, userNumber: from, endedReason: 'customer-ended-call' });
      // The goodbye was played (its mark acked) before the line was hung up.
      expect(media.marksPlayed.length).toBeGreaterThanOrEqual(2);
    }, 60_000);

    it('the caller hangs up in the middle of a reply', async () => {
      const { media, callId, from } = await callIn();
      const heardBefore = media.heard().length;
      await say(c, media, 'tell me a long story');
      await expect
        .poll(() => media.heard().length - heardBefore, { timeout: 15_000 })
        .toBeGreaterThan(media.heardRate);
      await media.hangUp();
      await expectEnded(c, callId, { ...inbound, userNumber: from, endedReason: 'customer-ended-call' });
    }, 60_000);

    it('a bad signature gets 403 and no call', async () => {
      const from = nextCaller();
      refusedCallers.push(from);
      const res = await sim.callIn({ inboundUrl, from, to: number, signature: 'bad' });
      expect(res.status).toBe(403);
      expect(res.media).toBeUndefined();
    }, 30_000);

    if (carrier === 'telnyx')
      it('a stale timestamp gets 403 and no call', async () => {
        const from = nextCaller();
        refusedCallers.push(from);
        const res = await sim.callIn({ inboundUrl, from, to: number, signature: 'stale' });
        expect(res.status).toBe(403);
      }, 30_000);

    it('a bad or reused media token closes the socket and reaches no call', async () => {
      const from = nextCaller();
      const answered = await sim.callIn({ inboundUrl, from, to: number });
      const media = answered.media;
      if (!media) throw new Error('no media');
      const url = mediaUrlIn(sim, answered.body, await callIdOf(c, from));
      expect(url, 'the media URL Parley answered with').toBeDefined();
      const reused = await connectRaw(url as string);
      expect([4401, 4403]).toContain(reused.code);
      const bad = await connectRaw((url as string).replace(/\/[^/]+$/, '/not-the-token'));
      expect([4401, 4403]).toContain(bad.code);
      await media.hangUp();
    }, 60_000);

    it('refused webhooks left no call behind', () => {
      for (const from of refusedCallers) expect(callsOf(c, from).size, from).toBe(0);
    });
  },
);
