import { describe, expect, it } from 'vitest';
import type { CarrierHttpRequest } from '../../../src/transports/phone/carrier.js';
import {
  plivoCarrier,
  plivoTransferReply,
  transferUrl,
} from '../../../src/transports/phone/plivo/carrier.js';
import { plivoStatusReport } from '../../../src/transports/phone/plivo/status.js';
import { parsePlivoMessage, plivoAudioFormat } from '../../../src/transports/phone/plivo/wire.js';
import { speakAndHangUpXml, streamXml, transferXml } from '../../../src/transports/phone/plivo/xml.js';

// Fixtures shaped as Plivo's Audio Streaming docs show them (and as Plivo's stream SDK validates).
const START = {
  event: 'start',
  sequenceNumber: 0,
  start: {
    callId: 'ab8c5a1e-0d87-11ee-b8d0-0242ac110003',
    streamId: '20170ada-f610-433b-8758-c02a2aab3662',
    accountId: 'MAXXXXXXXXXXXXXXXXXX',
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 },
  },
  extra_headers: '{}',
};
const MEDIA = {
  sequenceNumber: 3,
  streamId: '20170ada-f610-433b-8758-c02a2aab3662',
  event: 'media',
  media: { track: 'inbound', timestamp: '1686716541461', chunk: 2, payload: '/////w==' },
  extra_headers: '{}',
};
const DTMF = {
  event: 'dtmf',
  sequenceNumber: 9,
  streamId: '20170ada-f610-433b-8758-c02a2aab3662',
  dtmf: { track: 'inbound', digit: '5', timestamp: '1686716542000' },
  extra_headers: '{}',
};
const PLAYED = {
  event: 'playedStream',
  sequenceNumber: 12,
  streamId: '20170ada-f610-433b-8758-c02a2aab3662',
  name: 'm1',
};
const CLEARED = {
  event: 'clearedAudio',
  sequenceNumber: 13,
  streamId: '20170ada-f610-433b-8758-c02a2aab3662',
};

describe('Plivo wire', () => {
  it('parses the documented messages', () => {
    for (const message of [START, MEDIA, DTMF, PLAYED, CLEARED, { event: 'stop' }])
      expect(parsePlivoMessage(JSON.stringify(message)).event).toBe(message.event);
    expect(plivoAudioFormat(START.start.mediaFormat)).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
    expect(plivoAudioFormat({ encoding: 'audio/x-l16', sampleRate: 16000 })).toEqual({
      encoding: 'l16',
      sampleRate: 16000,
    });
  });

  it('refuses malformed messages with a reason', () => {
    expect(() => parsePlivoMessage('{nope')).toThrow('not JSON');
    expect(() => parsePlivoMessage('[1]')).toThrow('not a JSON object');
    expect(() => parsePlivoMessage('{"event":"bogus"}')).toThrow('unknown event "bogus"');
    expect(() => parsePlivoMessage(JSON.stringify({ ...MEDIA, media: { payload: 'not base64!' } }))).toThrow(
      /media: \/media\/payload/,
    );
    expect(() => parsePlivoMessage(JSON.stringify({ event: 'start', start: { callId: 'x' } }))).toThrow(
      /start:/,
    );
    expect(() => parsePlivoMessage(JSON.stringify({ ...DTMF, dtmf: {} }))).toThrow(/dtmf/);
    expect(() => parsePlivoMessage(JSON.stringify({ event: 'playedStream' }))).toThrow(/name/);
    expect(() => plivoAudioFormat({ encoding: 'audio/x-mulaw', sampleRate: 16000 })).toThrow('only 8000');
    expect(() => plivoAudioFormat({ encoding: 'audio/opus', sampleRate: 48000 })).toThrow(
      'unsupported audio encoding',
    );
  });

  it('maps every Plivo call status (telephony.md §5)', () => {
    const table: [string, string][] = [
      ['ringing', 'ringing'],
      ['in-progress', 'in-progress'],
      ['completed', 'completed'],
      ['busy', 'busy'],
      ['no-answer', 'no-answer'],
      ['timeout', 'no-answer'],
      ['cancel', 'canceled'],
      ['failed', 'failed'],
    ];
    for (const [plivo, parley] of table) {
      const report = plivoStatusReport(new URLSearchParams({ CallUUID: 'u1', CallStatus: plivo }));
      expect(report?.status, plivo).toBe(parley);
      expect(report?.carrierCallId).toBe('u1');
    }
    expect(plivoStatusReport(new URLSearchParams({ CallUUID: 'u1', CallStatus: 'weird' }))).toBeUndefined();
    expect(plivoStatusReport(new URLSearchParams({ CallStatus: 'busy' }))).toBeUndefined();
    const hangup = plivoStatusReport(
      new URLSearchParams({
        CallUUID: 'u',
        CallStatus: 'busy',
        HangupCauseName: 'Busy Line',
        SipResponseCode: '486',
      }),
    );
    expect(hangup).toEqual({ carrierCallId: 'u', status: 'busy', detail: 'busy (Busy Line)', sipCode: 486 });
    expect(plivoStatusReport(new URLSearchParams({ CallUUID: 'u', Machine: 'true' }))).toMatchObject({
      status: 'in-progress',
      answeredBy: 'machine',
    });
  });

  it('parses status and inbound webhooks from form bodies', () => {
    const req = (
      form: Record<string, string>,
      url = 'https://p/telephony/plivo/n/inbound',
    ): CarrierHttpRequest => ({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: Buffer.from(new URLSearchParams(form).toString()),
    });
    const inbound = {
      CallUUID: 'c1',
      From: '14155550199',
      To: '14155550100',
      Direction: 'inbound',
      CallStatus: 'ringing',
      Event: 'StartApp',
    };
    expect(plivoCarrier.parseInbound(req(inbound))).toEqual({
      carrierCallId: 'c1',
      from: '+14155550199',
      to: '+14155550100',
    });
    expect(plivoCarrier.parseInbound(req({ ...inbound, Direction: 'outbound' }))).toBeUndefined();
    expect(
      plivoCarrier.parseInbound(req({ ...inbound, Event: 'Hangup', CallStatus: 'completed' })),
    ).toBeUndefined();
    expect(plivoCarrier.parseInbound(req(inbound, 'https://p/a?transfer=abc'))).toBeUndefined();
    expect(
      plivoCarrier.parseStatus(req({ CallUUID: 'c1', CallStatus: 'completed', Event: 'Hangup' })),
    ).toMatchObject({
      status: 'completed',
    });
  });

  it('answers with the bidirectional <Stream> markup, and a hang-up or <Dial> on refusal', async () => {
    const xml = streamXml('wss://p/media/PC-1/t&k', 'https://p/status?c=1&d=2');
    expect(xml).toContain(
      '<Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000" statusCallbackUrl="https://p/status?c=1&amp;d=2" statusCallbackMethod="POST">wss://p/media/PC-1/t&amp;k</Stream>',
    );
    const offer = { carrierCallId: 'c', from: '+1', to: '+2' };
    const signal = new AbortController().signal;
    const account = { credentials: {}, apiBaseUrl: '' };
    const refusal = await plivoCarrier.refuse(offer, { say: 'Sorry <no> agents' }, account, signal);
    expect(refusal.body).toBe(speakAndHangUpXml('Sorry <no> agents'));
    expect(refusal.body).toContain('<Speak>Sorry &lt;no&gt; agents</Speak><Hangup/>');
    const forward = await plivoCarrier.refuse(
      offer,
      { say: 'x', forwardTo: { type: 'number', number: '+14155550111' } },
      account,
      signal,
    );
    expect(forward.body).toContain('<Dial><Number>+14155550111</Number></Dial>');
    expect(transferXml({ type: 'sip', sipUri: 'sip:desk@pbx.example.com' })).toContain(
      '<User>sip:desk@pbx.example.com</User>',
    );
  });

  it('a transfer aleg_url round-trips to its <Dial>; a forged one is refused', () => {
    const url = transferUrl('https://p/telephony/plivo/answer/PC-1?x=1', {
      type: 'number',
      number: '+14155550111',
      callerId: '+14155550100',
    });
    const req = (u: string): CarrierHttpRequest => ({
      method: 'POST',
      url: u,
      headers: {},
      rawBody: Buffer.alloc(0),
    });
    const reply = plivoTransferReply(req(url));
    expect(reply?.status).toBe(200);
    expect(reply?.body).toContain('<Dial callerId="+14155550100"><Number>+14155550111</Number></Dial>');
    expect(plivoTransferReply(req('https://p/answer?transfer=%%%'))?.status).toBe(400);
    const forged = Buffer.from(JSON.stringify({ type: 'number', number: 'evil' })).toString('base64url');
    expect(plivoTransferReply(req(`https://p/answer?transfer=${forged}`))?.status).toBe(400);
    expect(plivoTransferReply(req('https://p/answer'))).toBeUndefined();
  });
});
