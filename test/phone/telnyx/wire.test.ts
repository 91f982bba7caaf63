import { describe, expect, it } from 'vitest';
import type { CarrierHttpRequest } from '../../../src/transports/phone/carrier.js';
import { decodeClientState, telnyxCarrier } from '../../../src/transports/phone/telnyx/carrier.js';
import { telnyxAudioFormat } from '../../../src/transports/phone/telnyx/media.js';
import { ReorderBuffer } from '../../../src/transports/phone/telnyx/reorder.js';
import { parseMediaMessage, parseWebhook } from '../../../src/transports/phone/telnyx/wire.js';

// Shapes as in Telnyx's AsyncAPI "Stream call media over WebSocket" examples.
const STREAM = '32DE0DEA-53CB-4B21-89A4-9E1819C043BC';
const fixtures = {
  connected: '{"event":"connected","version":"1.0.0"}',
  start: `{"event":"start","sequence_number":"1","start":{"user_id":"3E6F995F-85F7-4705-9741-53B116D28237","call_control_id":"v2:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ","client_state":"aGF2ZSBhIG5pY2UgZGF5ID1d","media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1}},"stream_id":"${STREAM}"}`,
  media: `{"event":"media","sequence_number":"4","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"/////w=="},"stream_id":"${STREAM}"}`,
  dtmf: `{"event":"dtmf","stream_id":"${STREAM}","occurred_at":"2025-11-23T03:30:01.000000Z","sequence_number":"6","dtmf":{"digit":"1"}}`,
  mark: `{"event":"mark","sequence_number":"7","stream_id":"${STREAM}","mark":{"name":"m1"}}`,
  error: `{"event":"error","payload":{"code":100002,"title":"unknown_error","detail":"An unknown error has occurred"},"stream_id":"${STREAM}","sequence_number":"8"}`,
  stop: `{"event":"stop","sequence_number":"9","stop":{"user_id":"3E6F995F-85F7-4705-9741-53B116D28237","call_control_id":"v2:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ"},"stream_id":"${STREAM}"}`,
};

// A call.initiated webhook as Telnyx delivers it (a logged real delivery, numbers changed).
const callInitiated = {
  data: {
    event_type: 'call.initiated',
    id: 'b97d4d5e-6fe7-4432-911f-79637bf6ebb7',
    occurred_at: '2025-11-23T03:30:00.076316Z',
    payload: {
      call_control_id: 'v3:2EC-70CTEjlUq3tDM0CxKXIt5-5N4iP4wo7_-PfH-qub97Sk4EqO5w',
      call_leg_id: 'b0e6224c-c81c-11f0-afbb-02420aef93a0',
      call_session_id: 'b0e6141e-c81c-11f0-abac-02420aef93a0',
      caller_id_name: '+15550100001',
      calling_party_type: 'pstn',
      client_state: null,
      connection_codecs: 'PCMA,PCMU,VP8,H264',
      connection_id: '2811212257810187875',
      direction: 'incoming',
      from: '+15550100001',
      from_sip_uri: '5550100001@206.147.72.186:5060',
      offered_codecs: 'PCMU,G729',
      start_time: '2025-11-23T03:30:00.076316Z',
      state: 'parked',
      to: '+15550100002',
      to_sip_uri: '+15550100002@192.76.120.10:5060',
    },
    record_type: 'event',
  },
  meta: { attempt: 1, delivered_to: 'https://example.com/telnyx-webhook' },
};

const request = (body: unknown): CarrierHttpRequest => ({
  method: 'POST',
  url: 'https://parley.example/telephony/telnyx/n/inbound',
  headers: {},
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});

function webhook(event: string, payload: Record<string, unknown>) {
  return request({ data: { event_type: event, payload: { call_control_id: 'v3:x', ...payload } } });
}

describe('Telnyx media wire', () => {
  it('parses every documented message', () => {
    for (const [event, text] of Object.entries(fixtures)) expect(parseMediaMessage(text)?.event).toBe(event);
    const start = parseMediaMessage(fixtures.start);
    if (start?.event !== 'start') throw new Error('start');
    expect(telnyxAudioFormat(start.start.media_format)).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
  });

  it('refuses malformed messages with the field, ignores unknown events', () => {
    expect(() => parseMediaMessage('{nope')).toThrow('not JSON');
    expect(() => parseMediaMessage('[1]')).toThrow('not a JSON object');
    expect(() => parseMediaMessage('{"version":"1"}')).toThrow('no "event"');
    expect(() => parseMediaMessage('{"event":"media","sequence_number":"2","media":{}}')).toThrow(
      /bad "media" message at \/media/,
    );
    expect(() =>
      parseMediaMessage('{"event":"media","sequence_number":"x2","media":{"payload":""}}'),
    ).toThrow(/sequence_number/);
    expect(() =>
      parseMediaMessage('{"event":"media","sequence_number":"2","media":{"payload":"%%%"}}'),
    ).toThrow(/payload/);
    expect(() =>
      parseMediaMessage('{"event":"start","start":{"media_format":{"encoding":"PCMU","sample_rate":8000}}}'),
    ).toThrow(/call_control_id/);
    expect(() => parseMediaMessage('{"event":"dtmf","dtmf":{}}')).toThrow(/digit/);
    expect(parseMediaMessage('{"event":"transcription","text":"hi"}')).toBeUndefined();
  });

  it('negotiates PCMU/PCMA 8 kHz and L16 8/16 kHz; refuses the rest', () => {
    expect(telnyxAudioFormat({ encoding: 'L16', sample_rate: 16000, channels: 1 })).toEqual({
      encoding: 'l16',
      sampleRate: 16000,
    });
    expect(telnyxAudioFormat({ encoding: 'pcma', sample_rate: '8000' })).toEqual({
      encoding: 'alaw',
      sampleRate: 8000,
    });
    expect(() => telnyxAudioFormat({ encoding: 'G722', sample_rate: 16000 })).toThrow(
      'unsupported media_format G722/16000',
    );
    expect(() => telnyxAudioFormat({ encoding: 'PCMU', sample_rate: 16000 })).toThrow('unsupported');
    expect(() => telnyxAudioFormat({ encoding: 'PCMU', sample_rate: 8000, channels: 2 })).toThrow('mono');
  });
});

describe('Telnyx webhooks', () => {
  it('parses the documented call.initiated and offers the inbound call', () => {
    expect(parseWebhook(JSON.stringify(callInitiated)).data.event_type).toBe('call.initiated');
    expect(telnyxCarrier.parseInbound(request(callInitiated))).toEqual({
      carrierCallId: 'v3:2EC-70CTEjlUq3tDM0CxKXIt5-5N4iP4wo7_-PfH-qub97Sk4EqO5w',
      from: '+15550100001',
      to: '+15550100002',
    });
  });

  it('offers nothing for other events or Parley’s own outbound call.initiated', () => {
    expect(telnyxCarrier.parseInbound(webhook('call.answered', { direction: 'incoming' }))).toBeUndefined();
    expect(
      telnyxCarrier.parseInbound(webhook('call.initiated', { direction: 'outgoing', to: '+1555' })),
    ).toBeUndefined();
  });

  it('refuses a malformed webhook body', () => {
    expect(() => telnyxCarrier.parseInbound(request('not json'))).toThrow('not JSON');
    expect(() =>
      telnyxCarrier.parseStatus(request({ data: { event_type: 'call.hangup', payload: {} } })),
    ).toThrow(/call_control_id/);
    expect(() => telnyxCarrier.parseInbound(webhook('call.initiated', { direction: 'incoming' }))).toThrow(
      'without "to"',
    );
  });

  it('maps the lifecycle as telephony.md §5 says', () => {
    const table: [string, Record<string, unknown>, string][] = [
      ['call.initiated', {}, 'ringing'],
      ['call.answered', {}, 'in-progress'],
      ['call.hangup', { hangup_cause: 'normal_clearing' }, 'completed'],
      ['call.hangup', { hangup_cause: 'time_limit' }, 'completed'],
      ['call.hangup', { hangup_cause: 'user_busy' }, 'busy'],
      ['call.hangup', { hangup_cause: 'no_answer' }, 'no-answer'],
      ['call.hangup', { hangup_cause: 'timeout' }, 'no-answer'],
      ['call.hangup', { hangup_cause: 'originator_cancel' }, 'canceled'],
      ['call.hangup', { hangup_cause: 'call_rejected' }, 'failed'],
      ['call.hangup', { hangup_cause: 'not_found' }, 'failed'],
      ['call.hangup', { hangup_cause: 'something_new' }, 'failed'],
      ['call.hangup', {}, 'failed'],
    ];
    for (const [event, payload, status] of table)
      expect(
        telnyxCarrier.parseStatus(webhook(event, payload))?.status,
        `${event} ${JSON.stringify(payload)}`,
      ).toBe(status);
    expect(
      telnyxCarrier.parseStatus(
        webhook('call.hangup', {
          hangup_cause: 'user_busy',
          hangup_source: 'callee',
          sip_hangup_cause: '486',
        }),
      ),
    ).toEqual({
      carrierCallId: 'v3:x',
      status: 'busy',
      detail: 'call.hangup user_busy (callee)',
      sipCode: 486,
    });
    expect(
      telnyxCarrier.parseStatus(webhook('call.machine.detection.ended', { result: 'machine' })),
    ).toMatchObject({
      status: 'in-progress',
      answeredBy: 'machine',
    });
    expect(
      telnyxCarrier.parseStatus(webhook('call.machine.detection.ended', { result: 'not_sure' }))?.answeredBy,
    ).toBe('unknown');
    expect(
      telnyxCarrier.parseStatus(
        webhook('call.machine.premium.detection.ended', { result: 'human_residence' }),
      )?.answeredBy,
    ).toBe('human');
    for (const event of [
      'streaming.started',
      'streaming.stopped',
      'call.bridged',
      'call.speak.ended',
      'call.dtmf.received',
    ])
      expect(telnyxCarrier.parseStatus(webhook(event, {}))).toBeUndefined();
  });

  it('client_state round-trips the call id as base64', () => {
    expect(decodeClientState(Buffer.from('PC-1').toString('base64'))).toBe('PC-1');
    expect(decodeClientState(null)).toBeUndefined();
  });
});

describe('reorder buffer', () => {
  function run(sequence: number[], window = 3) {
    const out: (number | string)[] = [];
    const buffer = new ReorderBuffer<number>(window, {
      deliver: (n) => out.push(n),
      lost: (count) => out.push(`lost${count}`),
    });
    buffer.expect(2);
    const results = sequence.map((n) => buffer.push(n, n));
    return { out, results, buffer };
  }

  it('passes in-order input straight through', () => {
    expect(run([2, 3, 4]).out).toEqual([2, 3, 4]);
  });

  it('puts swapped messages back in order', () => {
    const { out, results } = run([3, 2, 5, 4, 6]);
    expect(out).toEqual([2, 3, 4, 5, 6]);
    expect(results).toEqual(['held', 'delivered', 'held', 'delivered', 'delivered']);
  });

  it('gives up on a hole after the window and drops the late arrival', () => {
    const { out, results, buffer } = run([2, 4, 5, 6, 7, 3]);
    expect(out).toEqual([2, 'lost1', 4, 5, 6, 7]);
    expect(results.at(-1)).toBe('late');
    expect(buffer.holding).toBe(0);
  });

  it('flushes held messages in order at the end, reporting holes', () => {
    const { out, buffer } = run([2, 5, 4]);
    expect(out).toEqual([2]);
    buffer.flush();
    expect(out).toEqual([2, 'lost1', 4, 5]);
  });

  it('ignores duplicates', () => {
    const { out, results } = run([2, 4, 4, 3]);
    expect(out).toEqual([2, 3, 4]);
    expect(results[2]).toBe('duplicate');
  });
});
