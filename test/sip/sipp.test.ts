// SIPp (Debian `sip-tester`) against Parley's SIP endpoint on 127.0.0.1: a whole inbound call
// (INVITE → 100/180/200 → ACK → the caller's audio as RTP → BYE), a call canceled before the
// answer (487), OPTIONS, and an unknown number (404). The webhook receiver sees ringing →
// in-progress → completed, exactly one terminal status-update and one report, provider "sip".
// Skipped with a message when SIPp is not installed (scripts/install-system-deps.sh installs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, sippAvailable } from '../../src/testing/sip/sipp.js';
import { callIdOf, expectEnded, heardInTranscript } from '../phone/support/conformance.js';
import {
  callerAudioFile,
  freeUdpPort,
  phoneStatuses,
  SIP_NUMBER,
  SIP_SLOW_NUMBER,
  type SipTestServer,
  startSipServer,
} from './support.js';

if (!sippAvailable())
  console.warn(
    'SIPp (/usr/bin/sipp) is missing: the SIPp tests are skipped; run scripts/install-system-deps.sh',
  );

describe.skipIf(!sippAvailable())('SIP endpoint with SIPp', () => {
  let s: SipTestServer;
  beforeAll(async () => {
    s = await startSipServer();
  }, 120_000);
  afterAll(async () => s?.cs.close());

  const target = () => ({ host: '127.0.0.1', port: s.sipPort });

  it('inbound: answered, the greeting and a turn, the caller hangs up', async () => {
    const caller = '+15005550301';
    s.providers.fakeStt.willHear('hello');
    const audio = await callerAudioFile(600, 1200);
    const run = runSipp({
      scenario: 'uac-call',
      target: target(),
      service: SIP_NUMBER,
      mediaPort: await freeUdpPort(),
      values: { caller, audio, talk: 1500, hold: 5000 },
    });
    const callId = await callIdOf(s.c, caller);
    await heardInTranscript(s.c, callId, 'Hello, this is Parley.');
    await heardInTranscript(s.c, callId, 'You said: hello.');
    const result = await run;
    expect(result.code, result.errors).toBe(0);
    await expectEnded(s.c, callId, {
      carrier: 'sip',
      direction: 'inbound',
      userNumber: caller,
      assistantNumber: SIP_NUMBER,
      status: 'finished',
      phoneCallStatus: 'completed',
      endedReason: 'customer-ended-call',
    });
    expect(phoneStatuses(s, callId)).toEqual(['ringing', 'in-progress', 'completed']);
    await expect.poll(() => s.sip.calls.liveDialogs).toBe(0);
  }, 60_000);

  it('a call canceled before the answer gets 487 and ends canceled', async () => {
    const caller = '+15005550302';
    // The slow number's assistant-request keeps the call ringing: SIPp cancels on the 180.
    const result = await runSipp({
      scenario: 'uac-cancel',
      target: target(),
      service: SIP_SLOW_NUMBER,
      values: { caller },
    });
    expect(result.code, result.errors).toBe(0);
    const callId = await callIdOf(s.c, caller);
    const report = await expectEnded(s.c, callId, {
      carrier: 'sip',
      direction: 'inbound',
      userNumber: caller,
      assistantNumber: SIP_SLOW_NUMBER,
      phoneCallStatus: 'canceled',
    });
    expect(report.call.assistantNumber).toBe(SIP_SLOW_NUMBER);
    expect(report.call.status).toBe('finished');
    await expect.poll(() => s.sip.calls.liveDialogs).toBe(0);
  }, 60_000);

  it('OPTIONS is answered 200', async () => {
    const result = await runSipp({ scenario: 'uac-options', target: target(), service: 'parley' });
    expect(result.code, result.errors).toBe(0);
  }, 30_000);

  it('a number Parley does not have gets 404 and no call', async () => {
    const before = s.cs.receiver.accepted().length;
    const result = await runSipp({
      scenario: 'uac-unknown-number',
      target: target(),
      service: '+14155550399',
    });
    expect(result.code, result.errors).toBe(0);
    expect(s.cs.receiver.accepted().length).toBe(before);
    expect(s.sip.calls.liveDialogs).toBe(0);
  }, 30_000);
});
