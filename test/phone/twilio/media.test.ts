import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mulawDecode, mulawEncode } from '../../../src/audio/g711.js';
import { detectDtmf } from '../../../src/testing/carriers/twilio/dtmf-detect.js';
import { TwilioMediaClient, twilioSid } from '../../../src/testing/carriers/twilio/media-client.js';
import { dtmfTones } from '../../../src/transports/phone/twilio/dtmf-tones.js';
import { type MediaSession, MiniRoutes, tone } from './support.js';

const accountSid = twilioSid('AC');
const authToken = 'media-test-token';
const routes = new MiniRoutes(() => ({
  credentials: { accountSid, authToken },
  apiBaseUrl: 'http://unused',
}));
const clients: TwilioMediaClient[] = [];

beforeAll(() => routes.start());
afterAll(() => routes.close());
afterEach(() => {
  for (const client of clients.splice(0)) client.stop();
});

async function open(callId = 'PC-1'): Promise<{ client: TwilioMediaClient; session: MediaSession }> {
  const client = new TwilioMediaClient({
    url: routes.urls(callId).mediaUrl,
    authToken,
    accountSid,
    callSid: twilioSid('CA'),
    parameters: { callId },
  });
  clients.push(client);
  const session = routes.nextSession();
  await client.connect();
  const s = await session;
  await s.recorder.until(() => s.recorder.hello !== undefined);
  return { client, session: s };
}

const mediaMessage = (client: TwilioMediaClient, timestamp: number, bytes: Uint8Array) =>
  JSON.stringify({
    event: 'media',
    sequenceNumber: '9',
    media: {
      track: 'inbound',
      chunk: '9',
      timestamp: String(timestamp),
      payload: Buffer.from(bytes).toString('base64'),
    },
    streamSid: client.streamSid,
  });

describe('TwilioMediaStream', () => {
  it('starts with a signed upgrade and says hello at 8 kHz', async () => {
    const { session } = await open();
    expect(session.upgrade).toEqual({ ok: true });
    expect(session.transport.providerName).toBe('twilio');
    expect(session.recorder.hello).toEqual({ sampleRate: 8000, frameMs: 20, audioOutput: true, marks: true });
  });

  it('turns caller audio into exact 20-ms frames', async () => {
    const { client, session } = await open();
    const pcm = tone(800); // 100 ms
    await client.speak(pcm, 8000);
    await client.silence(40); // Twilio streams on: the frame the tone ends in gets completed
    const joined = () => {
      const all = new Int16Array(session.recorder.frames.length * 160);
      for (const [i, f] of session.recorder.frames.entries()) all.set(f, i * 160);
      return all;
    };
    // Twilio's timestamps count from the stream's start: time before the first word is silence,
    // and the tone (whose first sample is 0) may start anywhere in a frame.
    const toneStart = () => joined().findIndex((sample) => sample !== 0) - 1;
    await session.recorder.until(() => toneStart() >= 0 && joined().length >= toneStart() + 800);
    expect(session.recorder.frames.every((f) => f.length === 160)).toBe(true);
    expect(joined().subarray(toneStart(), toneStart() + 800)).toEqual(mulawDecode(mulawEncode(pcm)));
  });

  it('fills a gap in media timestamps with silence', async () => {
    const { client, session } = await open();
    const bytes = mulawEncode(tone(160));
    client.sendRaw(mediaMessage(client, 0, bytes));
    client.sendRaw(mediaMessage(client, 20, bytes));
    client.sendRaw(mediaMessage(client, 500, bytes)); // 460 ms missing
    await session.recorder.until(() => session.recorder.frames.length === 26);
    const frames = session.recorder.frames;
    expect(frames.slice(2, 25).every((f) => f.every((s) => s === 0))).toBe(true);
    expect(frames[25]?.some((s) => s !== 0)).toBe(true);
  });

  it('acks a mark only once the audio before it has played', async () => {
    const { client, session } = await open();
    const sentAt = performance.now();
    for (let i = 0; i < 10; i++) session.transport.sendAudio(tone(160)); // 200 ms
    session.transport.sendMark('m1');
    await session.recorder.until(() => session.recorder.marks.includes('m1'));
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(180);
    expect(client.marksPlayed).toEqual(['m1']);
    expect(client.heard().length).toBe(1600);
    expect(client.received.find((m) => m.event === 'media')).toEqual({
      event: 'media',
      streamSid: client.streamSid,
      media: { payload: expect.stringMatching(/^[A-Za-z0-9+/]{214}==$/) },
    });
  });

  it('never acks marks Twilio returns because of a clear', async () => {
    const { client, session } = await open();
    for (let i = 0; i < 50; i++) session.transport.sendAudio(tone(160)); // 1 s
    session.transport.sendMark('m2');
    session.transport.clear();
    session.transport.sendMark('m3'); // nothing queued: played at once, echoed after m2's
    await session.recorder.until(() => session.recorder.marks.includes('m3'));
    expect(client.playout.marksCleared).toEqual(['m2']);
    expect(session.recorder.marks).toEqual(['m3']);
    expect(client.heard().length).toBeLessThan(8000);
  });

  it('sends clear even when nothing is queued', async () => {
    const { client, session } = await open();
    session.transport.clear();
    session.transport.sendMark('after');
    await session.recorder.until(() => session.recorder.marks.includes('after'));
    expect(client.clears).toBe(1);
    expect(client.received.filter((m) => m.event === 'clear')).toEqual([
      { event: 'clear', streamSid: client.streamSid },
    ]);
  });

  it('passes keypad digits on', async () => {
    const { client, session } = await open();
    client.press('12#');
    await session.recorder.until(() => session.recorder.digits.length === 3);
    expect(session.recorder.digits).toEqual(['1', '2', '#']);
  });

  it('sends DTMF as in-band tones the far end can decode', async () => {
    expect(detectDtmf(dtmfTones('159*#D', 8000), 8000)).toBe('159*#D');
    const { client, session } = await open();
    const result = await session.transport.sendDtmf?.('15#', AbortSignal.timeout(1000));
    expect(result).toEqual({ ok: true });
    session.transport.sendMark('tones');
    await session.recorder.until(() => session.recorder.marks.includes('tones'));
    expect(client.heardDigits()).toBe('15#');
    expect(await session.transport.sendDtmf?.('1x', AbortSignal.timeout(1000))).toEqual({
      ok: false,
      error: 'invalid DTMF digits "1x"',
    });
  });

  it('reports the caller hanging up', async () => {
    const { client, session } = await open();
    await client.hangUp();
    await session.recorder.until(() => session.recorder.close !== undefined);
    expect(session.recorder.close).toEqual({
      reason: 'caller hung up',
      initiator: 'client',
      protocolError: false,
    });
  });

  it('takes the stop after a transfer as the transfer, and then does not hang up', async () => {
    const { client, session } = await open();
    const to = { type: 'number', number: '+15550100' } as const;
    expect(await session.transport.transfer?.(to, AbortSignal.timeout(1000))).toEqual({ ok: true });
    expect(session.control.transfers).toEqual([to]);
    client.stop('carrier');
    await session.recorder.until(() => session.recorder.close !== undefined);
    expect(session.recorder.close).toMatchObject({ cause: 'transferred', initiator: 'client' });
    expect(await session.transport.hangUp({ cause: 'completed', reason: 'forwarded' })).toEqual({ ok: true });
    expect(session.control.hangUps).toBe(0);
  });

  it('a failed transfer leaves the call as it was: a later stop is a hang-up', async () => {
    const { client, session } = await open();
    session.control.transferResult = { ok: false, error: 'busy' };
    expect(
      await session.transport.transfer?.({ type: 'number', number: '+15550100' }, AbortSignal.timeout(1000)),
    ).toEqual({
      ok: false,
      error: 'busy',
    });
    await client.hangUp();
    await session.recorder.until(() => session.recorder.close !== undefined);
    expect(session.recorder.close?.cause).toBeUndefined();
  });

  it.each([
    ['malformed JSON', () => '{"event":', 1008, 'malformed message: not JSON'],
    ['an oversized message', () => 'x'.repeat(70 * 1024), 1009, 'message over 65536 bytes'],
    [
      'a message for another stream',
      (c: TwilioMediaClient) =>
        JSON.stringify({ event: 'mark', streamSid: `${c.streamSid}0`, mark: { name: 'x' } }),
      1008,
      'malformed message: mark for stream',
    ],
    ['a second start', () => 'START', 1008, 'malformed message: a second start'],
  ])('closes the socket on %s, with the reason', async (_what, make, code, reason) => {
    const { client, session } = await open();
    const text = make(client);
    if (text === 'START') {
      client.sendRaw(
        JSON.stringify({
          event: 'start',
          streamSid: client.streamSid,
          start: {
            accountSid,
            callSid: client.carrierCallId,
            mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
          },
        }),
      );
    } else client.sendRaw(text);
    const closed = await client.closed;
    expect(closed.code).toBe(code);
    expect(closed.reason.startsWith(reason.slice(0, 40))).toBe(true);
    await session.recorder.until(() => session.recorder.close !== undefined);
    expect(session.recorder.close).toMatchObject({ initiator: 'server', protocolError: true, code });
  });

  it('closes a flood of messages', async () => {
    const { client, session } = await open();
    for (let i = 0; i < 700; i++) client.press('1');
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1008, reason: 'more than 250 messages a second' });
    await session.recorder.until(() => session.recorder.close !== undefined);
    // A burst of 500, refilled at 250 a second while the flood lasts.
    expect(session.recorder.digits.length).toBeGreaterThanOrEqual(500);
    expect(session.recorder.digits.length).toBeLessThan(600);
  });

  it('refuses a start in another format or for another call', async () => {
    for (const [start, reason] of [
      [
        { mediaFormat: { encoding: 'audio/x-alaw', sampleRate: 8000, channels: 1 } },
        'unsupported media format audio/x-alaw/8000/1',
      ],
      [{ customParameters: { callId: 'PC-other' } }, 'start for call PC-other, not this one'],
    ] as const) {
      const client = new TwilioMediaClient({
        url: routes.urls('PC-9').mediaUrl,
        authToken,
        accountSid,
        callSid: twilioSid('CA'),
        parameters: {},
      });
      const session = routes.nextSession();
      // Hand-made start: the client's own connect() would send a valid one.
      const { WebSocket } = await import('ws');
      const { twilioSignature } = await import('../../../src/transports/phone/twilio/signature.js');
      const ws = new WebSocket(routes.urls('PC-9').mediaUrl, {
        headers: { 'x-twilio-signature': twilioSignature(authToken, routes.urls('PC-9').mediaUrl) },
      });
      await new Promise((resolve) => ws.once('open', resolve));
      const s = await session;
      ws.send(
        JSON.stringify({
          event: 'start',
          streamSid: client.streamSid,
          start: {
            accountSid,
            callSid: client.carrierCallId,
            mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
            ...start,
          },
        }),
      );
      const closed = await new Promise<string>((resolve) =>
        ws.once('close', (_c, r) => resolve(r.toString())),
      );
      expect(closed).toBe(`malformed message: ${reason}`);
      await s.recorder.until(() => s.recorder.close !== undefined);
      expect(s.recorder.hello).toBeUndefined();
    }
  });

  it('refuses audio before start', async () => {
    const { WebSocket } = await import('ws');
    const session = routes.nextSession();
    const ws = new WebSocket(routes.urls('PC-8').mediaUrl);
    await new Promise((resolve) => ws.once('open', resolve));
    const s = await session;
    expect(s.upgrade).toEqual({ ok: false, reason: 'missing X-Twilio-Signature header' });
    ws.send(JSON.stringify({ event: 'mark', streamSid: 'MZ1', mark: { name: 'x' } }));
    const reason = await new Promise<string>((resolve) => ws.once('close', (_c, r) => resolve(r.toString())));
    expect(reason).toBe('malformed message: mark before start');
  });

  it('acks a mark sent before the stream started at once (nothing was queued), after sendMark returns', async () => {
    const { WebSocket } = await import('ws');
    const session = routes.nextSession();
    const ws = new WebSocket(routes.urls('PC-7').mediaUrl);
    await new Promise((resolve) => ws.once('open', resolve));
    const s = await session;
    s.transport.sendMark('early');
    expect(s.recorder.marks).toEqual([]);
    await s.recorder.until(() => s.recorder.marks.includes('early'));
    ws.close();
  });
});
