import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mulawEncode } from '../../../src/audio/g711.js';
import { TelnyxMediaClient } from '../../../src/testing/carriers/telnyx/media-client.js';
import { createTelnyxSimulator } from '../../../src/testing/carriers/telnyx/simulator.js';
import { MediaCloseCodes } from '../../../src/transports/phone/media-stream.js';
import { type MediaServer, type Recorder, startMediaServer, steppedPcm } from './harness.js';

let server: MediaServer;
let client: TelnyxMediaClient | undefined;

beforeEach(async () => {
  server = await startMediaServer();
});
afterEach(async () => {
  client?.drop();
  client = undefined;
  await server.close();
});

async function connect(options: Partial<ConstructorParameters<typeof TelnyxMediaClient>[0]> = {}) {
  const media = new TelnyxMediaClient({
    url: server.url,
    carrierCallId: 'v3:call-1',
    from: '+15550100001',
    to: '+15550100002',
    swapEvery: 0,
    ...options,
  });
  client = media;
  const recorder = server.nextSocket();
  await media.connect();
  const rec = await recorder;
  await rec.waitFor('hello');
  return { media, rec };
}

const mean = (frame: Int16Array) => frame.reduce((s, v) => s + v, 0) / frame.length;

/** A media message as Telnyx sends it (µ-law payload of `value`). */
function mediaMessage(sequence: number, value: number, samples = 160) {
  const pcm = new Int16Array(samples).fill(value);
  return JSON.stringify({
    event: 'media',
    sequence_number: String(sequence),
    media: {
      track: 'inbound',
      chunk: String(sequence - 1),
      timestamp: String((sequence - 2) * 20),
      payload: Buffer.from(mulawEncode(pcm)).toString('base64'),
    },
  });
}

/** `n` outgoing 20-ms frames of `value`, sent by the server as the engine would (a burst is fine: the playout plays at 1×). */
function sendFrames(rec: Recorder, n: number, value = 3000, samples = 160) {
  for (let i = 0; i < n; i++) rec.transport.sendAudio(new Int16Array(samples).fill(value));
}

describe('Telnyx media stream over a real WebSocket', () => {
  it('start → hello at 8 kHz; caller audio → exact 20-ms frames, in order even when sent swapped', async () => {
    const { media, rec } = await connect({ swapEvery: 2 });
    expect(rec.of('hello')[0]?.hello).toEqual({
      sampleRate: 8000,
      frameMs: 20,
      audioOutput: true,
      marks: true,
    });
    await media.speak(steppedPcm(8, 160), 8000);
    // Paced on the stream's absolute clock: frame 7 leaves no earlier than start + 140 ms.
    expect(performance.now() - media.startedAt).toBeGreaterThanOrEqual(139);
    await rec.waitFor('audio', () => rec.of('audio').length >= 8);
    const frames = rec.of('audio').map((e) => e.frame);
    expect(frames.every((f) => f.length === 160)).toBe(true);
    const means = frames.map(mean);
    for (let k = 1; k < means.length; k++) expect(means[k]).toBeGreaterThan(means[k - 1] ?? 0);
  });

  it('a lost frame becomes one frame of silence; a frame arriving after its slot is dropped', async () => {
    const { media, rec } = await connect();
    // start was sequence 1; frame 4 never comes until 4 later frames passed (window 3), then late.
    for (const seq of [2, 3, 5, 6, 7, 8]) media.sendRaw(mediaMessage(seq, 4000));
    media.sendRaw(mediaMessage(4, 4000));
    await rec.waitFor('audio', () => rec.of('audio').length >= 7);
    media.stop();
    await rec.waitFor('close');
    const means = rec.of('audio').map((e) => mean(e.frame));
    expect(means).toHaveLength(7);
    expect(means[2]).toBe(0);
    expect(means.filter((m) => m === 0)).toHaveLength(1);
  });

  it('L16 at 16 kHz: big-endian RTP payloads both ways, 320-sample frames', async () => {
    const { media, rec } = await connect({ codec: 'L16' });
    expect(rec.of('hello')[0]?.hello.sampleRate).toBe(16000);
    const pcm = new Int16Array(640);
    for (let i = 0; i < pcm.length; i++) pcm[i] = ((i * 97) % 30000) - 15000;
    await media.speak(pcm, 16000);
    await rec.waitFor('audio', () => rec.of('audio').length >= 2);
    const got = Int16Array.from(rec.of('audio').flatMap((e) => [...e.frame]));
    expect(got).toEqual(pcm);
    const out = new Int16Array(320);
    for (let i = 0; i < out.length; i++) out[i] = 256 * i - 30000;
    rec.transport.sendAudio(out);
    rec.transport.sendMark('played');
    await rec.waitFor('mark');
    expect(media.heard().subarray(0, 320)).toEqual(out);
  });

  it('marks are acked only after their audio played; marks returned by clear are not acked', async () => {
    const { media, rec } = await connect();
    sendFrames(rec, 10); // 200 ms
    const sentAt = performance.now();
    rec.transport.sendMark('m1');
    await rec.waitFor('mark', (e) => e.id === 'm1');
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(150);
    expect(media.heard().length).toBeGreaterThanOrEqual(1600);

    sendFrames(rec, 50); // 1 s, then a barge-in
    rec.transport.sendMark('m2');
    rec.transport.clear();
    await expect.poll(() => media.marksCleared).toEqual(['m2']);
    rec.transport.sendMark('m3'); // nothing queued: acked at once
    await rec.waitFor('mark', (e) => e.id === 'm3');
    expect(rec.of('mark').map((e) => e.id)).toEqual(['m1', 'm3']);
    expect(media.clears).toBe(1);
    expect(media.heard().length).toBeLessThan(1600 + 8000);
  });

  it('clear is sent even when nothing is queued', async () => {
    const { media, rec } = await connect();
    rec.transport.clear();
    await expect.poll(() => media.clears).toBe(1);
    expect(media.received.map((m) => m.event)).toEqual(['clear']);
  });

  it('outgoing frames are media messages with base64 µ-law, one per frame', async () => {
    const { media, rec } = await connect();
    sendFrames(rec, 3, 1000);
    await expect.poll(() => media.received.length).toBe(3);
    for (const message of media.received) {
      expect(Object.keys(message).sort()).toEqual(['event', 'media']);
      const payload = Buffer.from((message.media as { payload: string }).payload, 'base64');
      expect(payload).toHaveLength(160);
    }
  });

  it('DTMF reaches the call', async () => {
    const { media, rec } = await connect();
    media.press('12#');
    await rec.waitFor('dtmf', (e) => e.digits === '#');
    expect(rec.of('dtmf').map((e) => e.digits)).toEqual(['1', '2', '#']);
  });

  it('stop → the caller hung up (client close), no REST hang-up', async () => {
    const { media, rec } = await connect();
    media.stop();
    const { info } = await rec.waitFor('close');
    expect(info).toMatchObject({ initiator: 'client', protocolError: false, reason: 'caller hung up' });
    expect(info.cause).toBeUndefined();
    await rec.transport.hangUp({ cause: 'completed', reason: 'customer-ended-call' });
    expect(rec.control.hangUps).toBe(1);
  });

  it('after a successful transfer, stop is "transferred" and hangUp does not call the REST hang-up', async () => {
    const { media, rec } = await connect();
    const result = await rec.transport.transfer?.(
      { type: 'number', number: '+15550100009' },
      AbortSignal.timeout(1000),
    );
    expect(result).toEqual({ ok: true });
    media.stop();
    const { info } = await rec.waitFor('close');
    expect(info).toMatchObject({ cause: 'transferred', reason: 'transferred', initiator: 'client' });
    await rec.transport.hangUp({ cause: 'completed', reason: 'assistant-forwarded-call' });
    expect(rec.control.hangUps).toBe(0);
  });

  it('a failed transfer keeps the call: a later stop is a hang-up', async () => {
    await server.close();
    server = await startMediaServer({ transferResult: { ok: false, error: 'busy' } });
    const { media, rec } = await connect();
    const result = await rec.transport.transfer?.(
      { type: 'number', number: '+15550100009' },
      AbortSignal.timeout(1000),
    );
    expect(result).toEqual({ ok: false, error: 'busy' });
    media.stop();
    const { info } = await rec.waitFor('close');
    expect(info.cause).toBeUndefined();
  });

  it('the engine hanging up calls the REST hang-up once and closes the socket', async () => {
    const { media, rec } = await connect();
    const result = await rec.transport.hangUp({ cause: 'completed', reason: 'assistant-ended-call' });
    expect(result).toEqual({ ok: true });
    expect(rec.control.hangUps).toBe(1);
    expect((await media.closed).code).toBe(MediaCloseCodes.normal);
  });
});

describe('Telnyx media stream refuses bad input', () => {
  async function raw() {
    const socket = new WebSocket(server.url);
    const recorder = server.nextSocket();
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    return { socket, rec: await recorder, closed };
  }
  const start = (encoding = 'PCMU', rate = 8000) =>
    JSON.stringify({
      event: 'start',
      sequence_number: '1',
      stream_id: 's',
      start: { call_control_id: 'v3:c', media_format: { encoding, sample_rate: rate, channels: 1 } },
    });

  it('malformed JSON closes with the reason', async () => {
    const { socket, rec, closed } = await raw();
    socket.send(start());
    socket.send('{"event":');
    expect(await closed).toEqual({
      code: MediaCloseCodes.protocolError,
      reason: 'malformed message: not JSON',
    });
    expect((await rec.waitFor('close')).info).toMatchObject({ protocolError: true, initiator: 'server' });
  });

  it('media before start, an unsupported codec and binary frames are refused', async () => {
    for (const send of [mediaMessage(2, 100), start('G722', 16000), Buffer.from([1, 2, 3])]) {
      const { socket, closed } = await raw();
      socket.send(send);
      const { code, reason } = await closed;
      expect(code).toBe(MediaCloseCodes.protocolError);
      expect(reason).toMatch(/media before start|unsupported media_format G722|binary message/);
    }
  });

  it('an oversized message closes with 1009', async () => {
    const { socket, closed } = await raw();
    socket.send(JSON.stringify({ event: 'connected', pad: 'x'.repeat(70_000) }));
    expect((await closed).code).toBe(MediaCloseCodes.tooBig);
  });

  it('a flood closes the socket with the reason', async () => {
    const { socket, rec, closed } = await raw();
    socket.send(start());
    for (let i = 0; i < 700; i++) socket.send('{"event":"connected","version":"1.0.0"}');
    expect((await closed).reason).toMatch(/messages a second/);
    expect((await rec.waitFor('close')).info.protocolError).toBe(true);
  });

  it('no start within the hello timeout: closed, cause hello-timeout', async () => {
    await server.close();
    server = await startMediaServer({ helloTimeoutMs: 150 });
    const { socket, rec, closed } = await raw();
    socket.send('{"event":"connected","version":"1.0.0"}');
    expect((await closed).code).toBe(MediaCloseCodes.timeout);
    expect((await rec.waitFor('close')).info.cause).toBe('hello-timeout');
  });
});

describe('the simulator’s media client against a refused upgrade', () => {
  it('openMedia rejects when the server refuses the WebSocket (bad token)', async () => {
    const refusing = createServer((_req, res) => res.writeHead(403).end('bad media token'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const { port } = refusing.address() as AddressInfo;
    try {
      await expect(
        createTelnyxSimulator().openMedia(`ws://127.0.0.1:${port}/telephony/telnyx/media/PC-x/bad`),
      ).rejects.toThrow(/403/);
    } finally {
      refusing.closeAllConnections();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});
