// Vonage wire fixtures (shaped on the examples of Vonage's Voice API docs: answer webhook, event
// webhook, WebSocket messages), the status mapping of telephony.md §5, and the NCCO markup.
import { describe, expect, it } from 'vitest';
import type { CarrierHttpRequest } from '../../../src/transports/phone/carrier.js';
import { vonageCarrier } from '../../../src/transports/phone/vonage/carrier.js';
import { parseVonageWsText, VONAGE_STATUS_MAP } from '../../../src/transports/phone/vonage/wire.js';

const post = (body: unknown): CarrierHttpRequest => ({
  method: 'POST',
  url: 'https://parley.example.com/telephony/vonage/n1/inbound',
  headers: { 'content-type': 'application/json' },
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});

const ANSWER_WEBHOOK = {
  to: '447700900000',
  from: '447700900001',
  uuid: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
  conversation_uuid: 'CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
  region_url: 'https://api-ap-3.vonage.com',
  custom_data: {},
};

const event = (status: string, extra: object = {}) => ({
  headers: {},
  from: '447700900000',
  to: '447700900001',
  uuid: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
  conversation_uuid: 'CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
  status,
  direction: 'outbound',
  timestamp: '2020-01-01T12:00:00.000Z',
  ...extra,
});

describe('Vonage media WebSocket messages', () => {
  it('parses the documented messages', () => {
    expect(
      parseVonageWsText(
        '{"event":"websocket:connected","content-type":"audio/l16;rate=16000","prop1":"value1","prop2":"value2"}',
      ),
    ).toEqual({ kind: 'connected', sampleRate: 16000, headers: { prop1: 'value1', prop2: 'value2' } });
    expect(
      parseVonageWsText('{"event":"websocket:connected","content-type":"audio/l16;rate=8000"}'),
    ).toMatchObject({
      sampleRate: 8000,
    });
    expect(parseVonageWsText('{"event":"websocket:dtmf","digit":"5","duration":260}')).toEqual({
      kind: 'dtmf',
      digits: '5',
    });
    expect(parseVonageWsText('{"event":"websocket:dtmf","dtmf":{"digit":"#","duration":100}}')).toEqual({
      kind: 'dtmf',
      digits: '#',
    });
    expect(parseVonageWsText('{"event":"websocket:cleared"}')).toEqual({ kind: 'cleared' });
    expect(parseVonageWsText('{"event":"websocket:notify","payload":{"mark":"s-1"}}')).toEqual({
      kind: 'notify',
      mark: 's-1',
    });
    expect(parseVonageWsText('{"event":"websocket:notify","payload":{"other":1}}')).toEqual({
      kind: 'notify',
      mark: undefined,
    });
    expect(parseVonageWsText('{"event":"websocket:future-thing"}')).toEqual({
      kind: 'other',
      event: 'websocket:future-thing',
    });
  });

  it.each([
    ['not JSON', 'hello', /not JSON/],
    ['an array', '[1]', /not a JSON object/],
    ['no event', '{"digit":"1"}', /no event/],
    ['connected without content-type', '{"event":"websocket:connected"}', /content-type/],
    [
      'a µ-law content-type',
      '{"event":"websocket:connected","content-type":"audio/pcmu;rate=8000"}',
      /unsupported content-type/,
    ],
    ['24 kHz', '{"event":"websocket:connected","content-type":"audio/l16;rate=24000"}', /rate 24000/],
    ['dtmf without digit', '{"event":"websocket:dtmf","duration":5}', /without a digit/],
    ['dtmf digit a number', '{"event":"websocket:dtmf","digit":5}', /digit/],
    ['notify payload a string', '{"event":"websocket:notify","payload":"m1"}', /payload/],
    ['notify mark a number', '{"event":"websocket:notify","payload":{"mark":3}}', /mark/],
  ])('refuses %s', (_name, text, reason) => {
    expect(() => parseVonageWsText(text)).toThrow(reason);
  });
});

describe('Vonage webhooks', () => {
  it('reads an inbound call from the answer webhook (POST JSON and GET query)', () => {
    const offer = { carrierCallId: ANSWER_WEBHOOK.uuid, from: '+447700900001', to: '+447700900000' };
    expect(vonageCarrier.parseInbound(post(ANSWER_WEBHOOK))).toEqual(offer);
    const query = new URLSearchParams({
      to: '447700900000',
      from: '447700900001',
      uuid: ANSWER_WEBHOOK.uuid,
    });
    const get: CarrierHttpRequest = {
      ...post(''),
      method: 'GET',
      url: `https://p.example.com/inbound?${query}`,
    };
    expect(vonageCarrier.parseInbound(get)).toEqual(offer);
  });

  it('keeps a caller that is not a number, and refuses a malformed answer webhook', () => {
    expect(vonageCarrier.parseInbound(post({ ...ANSWER_WEBHOOK, from: 'sip:alice@example.com' }))?.from).toBe(
      'sip:alice@example.com',
    );
    expect(vonageCarrier.parseInbound(post({ ...ANSWER_WEBHOOK, from: undefined }))?.from).toBe('anonymous');
    expect(() => vonageCarrier.parseInbound(post({ to: '447700900000' }))).toThrow(/uuid/);
    expect(() => vonageCarrier.parseInbound(post('{not json'))).toThrow(/not JSON/);
    expect(() => vonageCarrier.parseInbound(post('[]'))).toThrow(/not a JSON object/);
  });

  it('an event is not an inbound call, and an answer webhook carries no status', () => {
    expect(vonageCarrier.parseInbound(post(event('started')))).toBeUndefined();
    expect(vonageCarrier.parseStatus(post(ANSWER_WEBHOOK))).toBeUndefined();
  });

  const TABLE: [string, string][] = [
    ['started', 'ringing'],
    ['ringing', 'ringing'],
    ['answered', 'in-progress'],
    ['completed', 'completed'],
    ['busy', 'busy'],
    ['rejected', 'busy'],
    ['unanswered', 'no-answer'],
    ['timeout', 'no-answer'],
    ['cancelled', 'canceled'],
    ['failed', 'failed'],
  ];
  it.each(TABLE)('maps status %s to %s', (vonage, parley) => {
    expect(vonageCarrier.parseStatus(post(event(vonage)))).toEqual({
      carrierCallId: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
      status: parley,
      detail: vonage,
    });
  });

  it('the table covers every Vonage status', () => {
    expect(Object.keys(VONAGE_STATUS_MAP).sort()).toEqual(
      [...TABLE.map(([v]) => v), 'human', 'machine'].sort(),
    );
  });

  it('reports answering-machine detection', () => {
    expect(vonageCarrier.parseStatus(post(event('machine', { sub_state: 'beep_start' })))).toMatchObject({
      status: 'in-progress',
      answeredBy: 'machine',
    });
    expect(vonageCarrier.parseStatus(post(event('human')))).toMatchObject({ answeredBy: 'human' });
  });

  it('ignores the websocket leg, events without a status and unknown statuses', () => {
    expect(
      vonageCarrier.parseStatus(post(event('completed', { to: 'wss://p.example.com/media/PC-1/t' }))),
    ).toBeUndefined();
    const transfer = {
      conversation_uuid_from: 'CON-1',
      conversation_uuid_to: 'CON-2',
      uuid: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
      timestamp: '2020-01-01T14:00:00.000Z',
    };
    expect(vonageCarrier.parseStatus(post(transfer))).toBeUndefined();
    expect(vonageCarrier.parseStatus(post(event('record')))).toBeUndefined();
  });

  it('refuses a malformed event', () => {
    expect(() => vonageCarrier.parseStatus(post({ status: 3, uuid: 'x' }))).toThrow(/status/);
    expect(() => vonageCarrier.parseStatus(post({ status: 'answered' }))).toThrow(/uuid/);
  });
});

describe('Vonage NCCO', () => {
  const urls = {
    mediaUrl: 'wss://p.example.com/telephony/vonage/media/PC-1/tok',
    statusUrl: 'https://p.example.com/telephony/vonage/n1/status',
    answerUrl: 'https://p.example.com/telephony/vonage/n1/answer/PC-1',
    afterUrl: 'https://p.example.com/after',
  };
  const offer = { carrierCallId: 'u-1', from: '+447700900001', to: '+447700900000' };
  const account = { credentials: {}, apiBaseUrl: 'https://api.nexmo.com' };
  const signal = AbortSignal.timeout(1000);

  it('answers with a connect to the media WebSocket at 16 kHz', async () => {
    const reply = await vonageCarrier.answer({ callId: 'PC-1', offer, urls }, account, signal);
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    expect(JSON.parse(reply.body)).toEqual([
      {
        action: 'connect',
        eventUrl: [urls.statusUrl],
        from: '447700900000',
        endpoint: [
          {
            type: 'websocket',
            uri: urls.mediaUrl,
            'content-type': 'audio/l16;rate=16000',
            headers: { callId: 'PC-1' },
          },
        ],
      },
    ]);
  });

  it('refuses with a spoken apology, or forwards to a number or SIP URI', async () => {
    const say = await vonageCarrier.refuse(
      offer,
      { say: 'Sorry, nobody can take your call.' },
      account,
      signal,
    );
    expect(JSON.parse(say.body)).toEqual([{ action: 'talk', text: 'Sorry, nobody can take your call.' }]);
    const number = await vonageCarrier.refuse(
      offer,
      { say: 'x', forwardTo: { type: 'number', number: '+15550001111' } },
      account,
      signal,
    );
    expect(JSON.parse(number.body)).toEqual([
      { action: 'connect', from: '447700900000', endpoint: [{ type: 'phone', number: '15550001111' }] },
    ]);
    const sip = await vonageCarrier.refuse(
      offer,
      { say: 'x', forwardTo: { type: 'sip', sipUri: 'sip:desk@pbx.example.com' } },
      account,
      signal,
    );
    expect(JSON.parse(sip.body)).toEqual([
      { action: 'connect', endpoint: [{ type: 'sip', uri: 'sip:desk@pbx.example.com' }] },
    ]);
    const broken = await vonageCarrier.refuse(
      offer,
      { say: 'Sorry.', forwardTo: { type: 'number', number: 'not-a-number' } },
      account,
      signal,
    );
    expect(JSON.parse(broken.body)).toEqual([{ action: 'talk', text: 'Sorry.' }]);
  });

  it('answers an outbound answer URL with the same connect', () => {
    const reply = vonageCarrier.answerOutbound?.({ callId: 'PC-2', urls });
    const ncco = JSON.parse(reply?.body ?? '[]');
    expect(ncco[0].endpoint[0]).toMatchObject({
      type: 'websocket',
      uri: urls.mediaUrl,
      headers: { callId: 'PC-2' },
    });
    expect(ncco[0].from).toBeUndefined();
  });

  it('lists the console steps with both URLs', () => {
    const steps = vonageCarrier.setup({ inboundUrl: 'https://p/inbound', statusUrl: 'https://p/status' });
    expect(steps.find((s) => /Answer URL/.test(s.field))).toMatchObject({
      url: 'https://p/inbound',
      method: 'POST',
    });
    expect(steps.find((s) => /Event URL/.test(s.field))).toMatchObject({
      url: 'https://p/status',
      method: 'POST',
    });
    expect(vonageCarrier.credentialFields.map((f) => [f.name, f.secret])).toEqual([
      ['applicationId', false],
      ['privateKey', true],
      ['signatureSecret', true],
    ]);
  });
});
