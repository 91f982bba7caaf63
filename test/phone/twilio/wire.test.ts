import { describe, expect, it } from 'vitest';
import { readTwiml } from '../../../src/testing/carriers/twilio/twiml-read.js';
import type { CarrierHttpRequest } from '../../../src/transports/phone/carrier.js';
import {
  afterConnect,
  DIAL_FAILED_MESSAGE,
  twilioCarrier,
} from '../../../src/transports/phone/twilio/carrier.js';
import { dialTwiml } from '../../../src/transports/phone/twilio/twiml.js';
import { TWILIO_STATUS_MAP } from '../../../src/transports/phone/twilio/webhooks.js';
import { parseTwilioMessage } from '../../../src/transports/phone/twilio/wire.js';

// Shapes copied from Twilio's "Media Streams – WebSocket Messages" examples.
const MZ = 'MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX';
const CA = 'CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX';
const AC = 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX';
const fixtures = {
  connected: { event: 'connected', protocol: 'Call', version: '1.0.0' },
  start: {
    event: 'start',
    sequenceNumber: '1',
    start: {
      accountSid: AC,
      streamSid: MZ,
      callSid: CA,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      customParameters: { FirstName: 'Jane', LastName: 'Doe', RemoteParty: 'Bob' },
    },
    streamSid: MZ,
  },
  media: {
    event: 'media',
    sequenceNumber: '3',
    media: {
      track: 'inbound',
      chunk: '1',
      timestamp: '5',
      payload: Buffer.alloc(160, 0xff).toString('base64'),
    },
    streamSid: MZ,
  },
  mark: { event: 'mark', sequenceNumber: '4', streamSid: MZ, mark: { name: 'my label' } },
  dtmf: { event: 'dtmf', streamSid: MZ, sequenceNumber: '5', dtmf: { track: 'inbound_track', digit: '1' } },
  stop: { event: 'stop', sequenceNumber: '5', streamSid: MZ, stop: { accountSid: AC, callSid: CA } },
};

describe('Twilio media stream messages', () => {
  it.each(Object.entries(fixtures))('parses the documented %s message', (event, message) => {
    expect(parseTwilioMessage(JSON.stringify(message))).toEqual(message);
    expect(parseTwilioMessage(JSON.stringify(message)).event).toBe(event);
  });

  it.each([
    ['not JSON', '{"event":', 'not JSON'],
    ['an array', '[1]', 'not a JSON object'],
    ['an unknown event', '{"event":"hello"}', 'unknown event "hello"'],
    [
      'media without streamSid',
      JSON.stringify({ ...fixtures.media, streamSid: undefined }),
      'media: /streamSid',
    ],
    [
      'a numeric timestamp',
      JSON.stringify({ ...fixtures.media, media: { ...fixtures.media.media, timestamp: 5 } }),
      'media: /media/timestamp',
    ],
    [
      'a payload that is not base64',
      JSON.stringify({ ...fixtures.media, media: { ...fixtures.media.media, payload: 'ab$c' } }),
      'media: /media/payload',
    ],
    [
      'a DTMF key that does not exist',
      JSON.stringify({ ...fixtures.dtmf, dtmf: { digit: 'X' } }),
      'dtmf: /dtmf/digit',
    ],
    [
      'two digits in one dtmf',
      JSON.stringify({ ...fixtures.dtmf, dtmf: { digit: '12' } }),
      'dtmf: /dtmf/digit',
    ],
    [
      'a start without mediaFormat',
      JSON.stringify({ ...fixtures.start, start: { ...fixtures.start.start, mediaFormat: undefined } }),
      'start: /start/mediaFormat',
    ],
    ['a mark without a name', JSON.stringify({ ...fixtures.mark, mark: {} }), 'mark: /mark/name'],
    ['a bad stream sid', JSON.stringify({ ...fixtures.stop, streamSid: 'XX1' }), 'stop: /streamSid'],
  ])('refuses %s', (_what, text, reason) => {
    expect(() => parseTwilioMessage(text)).toThrow(reason);
  });
});

const form = (params: Record<string, string>, url = 'https://p.test/hook'): CarrierHttpRequest => ({
  method: 'POST',
  url,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  rawBody: Buffer.from(new URLSearchParams(params).toString()),
});
const CALL = 'CA0123456789abcdef0123456789abcdef';

describe('Twilio webhooks', () => {
  it('maps every CallStatus as telephony.md §5 says', () => {
    const table: [string, string][] = [
      ['queued', 'ringing'],
      ['initiated', 'ringing'],
      ['ringing', 'ringing'],
      ['in-progress', 'in-progress'],
      ['completed', 'completed'],
      ['busy', 'busy'],
      ['no-answer', 'no-answer'],
      ['failed', 'failed'],
      ['canceled', 'canceled'],
    ];
    for (const [twilio, parley] of table) {
      expect(TWILIO_STATUS_MAP[twilio]).toBe(parley);
      expect(twilioCarrier.parseStatus(form({ CallSid: CALL, CallStatus: twilio }))).toEqual({
        carrierCallId: CALL,
        status: parley,
        detail: twilio,
      });
    }
    expect(() => twilioCarrier.parseStatus(form({ CallSid: CALL, CallStatus: 'exploded' }))).toThrow(
      'unknown CallStatus',
    );
  });

  it('reads SIP codes and answering-machine verdicts, sync and async', () => {
    expect(
      twilioCarrier.parseStatus(form({ CallSid: CALL, CallStatus: 'busy', SipResponseCode: '486' })),
    ).toMatchObject({
      status: 'busy',
      sipCode: 486,
    });
    for (const [answeredBy, who] of [
      ['human', 'human'],
      ['machine_end_beep', 'machine'],
      ['machine_start', 'machine'],
      ['fax', 'machine'],
      ['unknown', 'unknown'],
    ]) {
      expect(
        twilioCarrier.parseStatus(
          form({ CallSid: CALL, CallStatus: 'in-progress', AnsweredBy: answeredBy as string }),
        )?.answeredBy,
      ).toBe(who);
      // The async AMD callback has no CallStatus.
      expect(
        twilioCarrier.parseStatus(form({ CallSid: CALL, AnsweredBy: answeredBy as string })),
      ).toMatchObject({
        status: 'in-progress',
        answeredBy: who,
      });
    }
    // A <Stream statusCallback> event carries no call status.
    expect(
      twilioCarrier.parseStatus(form({ CallSid: CALL, StreamSid: MZ, StreamEvent: 'stream-started' })),
    ).toBeUndefined();
  });

  it('parses an inbound call and ignores other webhooks', () => {
    const inbound = {
      CallSid: CALL,
      AccountSid: AC,
      From: '+15551230001',
      To: '+15559870002',
      CallStatus: 'ringing',
      Direction: 'inbound',
    };
    expect(twilioCarrier.parseInbound(form(inbound))).toEqual({
      carrierCallId: CALL,
      from: '+15551230001',
      to: '+15559870002',
    });
    expect(twilioCarrier.parseInbound(form({ ...inbound, From: '' }))?.from).toBe('anonymous');
    expect(twilioCarrier.parseInbound(form({ ...inbound, Direction: 'outbound-api' }))).toBeUndefined();
    expect(twilioCarrier.parseInbound(form({ ...inbound, CallStatus: 'completed' }))).toBeUndefined();
    expect(() => twilioCarrier.parseInbound(form({ ...inbound, To: '' }))).toThrow('To is missing');
    expect(() => twilioCarrier.parseInbound(form({ ...inbound, CallSid: 'CA-1' }))).toThrow('CallSid');
    // GET webhooks carry the parameters in the query.
    const get: CarrierHttpRequest = {
      method: 'GET',
      url: `https://p.test/in?${new URLSearchParams(inbound)}`,
      headers: {},
      rawBody: Buffer.alloc(0),
    };
    expect(twilioCarrier.parseInbound(get)?.carrierCallId).toBe(CALL);
  });
});

describe('TwiML', () => {
  const urls = {
    mediaUrl: 'wss://p.test/telephony/twilio/media/PC-1/t0k',
    statusUrl: 'https://p.test/telephony/twilio/n1/status',
    answerUrl: 'https://p.test/telephony/twilio/n1/answer',
    afterUrl: 'https://p.test/telephony/twilio/after/PC-1?a=1&b=2',
  };
  const offer = { carrierCallId: CALL, from: '+15551230001', to: '+15559870002' };
  const signal = AbortSignal.timeout(1000);
  const account = { credentials: { accountSid: AC, authToken: 't' }, apiBaseUrl: 'http://x' };

  it('answers with a blocking bidirectional stream, the call id as a Parameter', async () => {
    const reply = await twilioCarrier.answer({ callId: 'PC-1', offer, urls }, account, signal);
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^text\/xml/);
    expect(reply.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect action="https://p.test/telephony/twilio/after/PC-1?a=1&amp;b=2" method="POST">' +
        '<Stream url="wss://p.test/telephony/twilio/media/PC-1/t0k" statusCallback="https://p.test/telephony/twilio/n1/status" statusCallbackMethod="POST">' +
        '<Parameter name="callId" value="PC-1"/></Stream></Connect></Response>',
    );
    expect(readTwiml(reply.body)).toMatchObject({
      connectAction: urls.afterUrl,
      stream: { url: urls.mediaUrl, parameters: { callId: 'PC-1' } },
    });
    expect(twilioCarrier.answerOutbound?.({ callId: 'PC-1', urls }).body).toBe(reply.body);
    expect(afterConnect().body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });

  it('refuses by saying sorry and hanging up, or by forwarding', async () => {
    const say = await twilioCarrier.refuse(offer, { say: 'Sorry <we> are closed & away' }, account, signal);
    expect(say.body).toContain('<Say>Sorry &lt;we&gt; are closed &amp; away</Say><Hangup/>');
    const forward = await twilioCarrier.refuse(
      offer,
      { say: 'x', forwardTo: { type: 'number', number: '+15550100' } },
      account,
      signal,
    );
    expect(forward.body).toContain('<Dial><Number>+15550100</Number></Dial>');
    const sip = await twilioCarrier.refuse(
      offer,
      { say: 'x', forwardTo: { type: 'sip', sipUri: 'sip:desk@pbx.test' } },
      account,
      signal,
    );
    expect(sip.body).toContain('<Dial><Sip>sip:desk@pbx.test</Sip></Dial>');
    // A destination that is not a number or SIP URI is never dialled.
    const bad = await twilioCarrier.refuse(
      offer,
      { say: 'bye', forwardTo: { type: 'number', number: '555' } },
      account,
      signal,
    );
    expect(bad.body).toContain('<Say>bye</Say><Hangup/>');
  });

  it('describes the console setup', () => {
    const steps = twilioCarrier.setup({ inboundUrl: 'https://p.test/in', statusUrl: 'https://p.test/st' });
    expect(steps.filter((s) => s.url)).toEqual([
      expect.objectContaining({ url: 'https://p.test/in', method: 'POST' }),
      expect.objectContaining({ url: 'https://p.test/st', method: 'POST' }),
    ]);
    expect(twilioCarrier.credentialFields.map((f) => [f.name, f.secret])).toEqual([
      ['accountSid', false],
      ['authToken', true],
    ]);
  });
});

describe('a transfer that Twilio accepts and that fails later', () => {
  const afterReq = (form: Record<string, string>): CarrierHttpRequest => ({
    method: 'POST',
    url: 'https://parley.example/telephony/twilio/pn_1/calls/PC-1/after',
    headers: {},
    rawBody: Buffer.from(new URLSearchParams(form).toString()),
  });

  it("the <Dial> carries the call's after URL as its action", () => {
    const xml = dialTwiml(
      { type: 'number', number: '+15550100' },
      { action: 'https://p.example/after?a=1&b=2' },
    );
    expect(xml).toContain(
      '<Dial action="https://p.example/after?a=1&amp;b=2" method="POST"><Number>+15550100</Number></Dial>',
    );
  });

  it.each(['busy', 'no-answer', 'failed'])(
    'DialCallStatus %s: the caller hears an apology, then the call ends',
    (status) => {
      const reply = twilioCarrier.afterStream?.(afterReq({ CallSid: CA, DialCallStatus: status }));
      expect(reply?.body).toContain(`<Say>${DIAL_FAILED_MESSAGE.replace("'", '&apos;')}</Say><Hangup/>`);
    },
  );

  it('an answered dial, or the end of <Connect>, just hangs up', () => {
    const forms: Record<string, string>[] = [
      { CallSid: CA, DialCallStatus: 'completed' },
      { CallSid: CA, CallStatus: 'in-progress' },
    ];
    for (const form of forms)
      expect(twilioCarrier.afterStream?.(afterReq(form)).body).toBe(afterConnect().body);
  });
});
