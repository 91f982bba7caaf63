// The Vonage media stream over a real local WebSocket, driven by the simulator's media client:
// hello, exact 20-ms frames both ways, marks acked only after playout (never the ones a clear
// returns), clear, DTMF, hang-up and transfer endings, and the guards (malformed, oversized,
// flood, no connected message).
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { VonageMediaClient } from '../../../src/testing/carriers/vonage/media-client.js';
import { type Harness, type StubControl, startHarness, stubControl } from './harness.js';

const ACCOUNT = { credentials: {}, apiBaseUrl: 'http://127.0.0.1:1' };

let harness: Harness;
let control: StubControl;
const clients: VonageMediaClient[] = [];

beforeEach(async () => {
  control = stubControl();
  harness = await startHarness({ account: () => ACCOUNT, control: () => control, helloTimeoutMs: 300 });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.end('test over');
  await harness.close();
});

async function connect(contentType = 'audio/l16;rate=16000', returnMarksOnClear = true) {
  const client = await VonageMediaClient.connect({
    uri: `${harness.wsUrl}/PC-1/token`,
    carrierCallId: 'uuid-1',
    contentType,
    headers: { callId: 'PC-1' },
    returnMarksOnClear,
  });
  clients.push(client);
  const session = await harness.nextSession();
  await session.recorder.until(() => session.recorder.hello !== undefined, 2000, 'hello');
  return { client, session, recorder: session.recorder, transport: session.transport };
}

function ramp(samples: number, start = 0): Int16Array {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = ((start + i) * 37) % 30000;
  return pcm;
}

/** Sends `ms` of server audio as 20-ms frames of `rate` (all at once: the carrier buffers). */
function sendServerAudio(transport: { sendAudio(f: Int16Array): void }, ms: number, rate = 16000) {
  for (let t = 0; t < ms; t += 20) transport.sendAudio(ramp(rate / 50, t));
}

describe('Vonage media stream', () => {
  it('starts with the rate of websocket:connected and delivers exact 20-ms frames', async () => {
    const { client, recorder } = await connect();
    expect(recorder.hello).toEqual({ sampleRate: 16000, frameMs: 20, audioOutput: true, marks: true });
    const speech = ramp(1600 + 100); // 106.25 ms: five whole frames and a padded sixth
    await client.speak(speech, 16000);
    await recorder.until(() => recorder.frames.length === 6, 2000, 'six frames');
    expect(recorder.frames.every((f) => f.length === 320)).toBe(true);
    const joined = Int16Array.from(recorder.frames.flatMap((f) => Array.from(f)));
    expect(Array.from(joined.subarray(0, speech.length))).toEqual(Array.from(speech));
    expect(Array.from(joined.subarray(speech.length)).every((s) => s === 0)).toBe(true);
  });

  it('paces caller audio at real time on an absolute clock', async () => {
    const { client, recorder } = await connect();
    const started = performance.now();
    await client.speak(new Int16Array(16000 * 0.3), 16000); // 15 frames
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(270);
    expect(elapsed).toBeLessThan(2000);
    await recorder.until(() => recorder.frames.length === 15);
  });

  it('runs at 8 kHz when the content-type says so (160-sample frames)', async () => {
    const { client, recorder } = await connect('audio/l16;rate=8000');
    expect(recorder.hello?.sampleRate).toBe(8000);
    await client.silence(60);
    await recorder.until(() => recorder.frames.length === 3);
    expect(recorder.frames.map((f) => f.length)).toEqual([160, 160, 160]);
    expect(recorder.frames.every((f) => f.every((s) => s === 0))).toBe(true);
  });

  it('sends 640-byte little-endian frames that the caller hears at 1x', async () => {
    const { client, transport } = await connect();
    const started = performance.now();
    sendServerAudio(transport, 200);
    await expect.poll(() => client.framesReceived, { timeout: 2000 }).toBe(10);
    expect(client.protocolErrors).toEqual([]);
    // Played at 1×: never more heard than the time since the audio was sent allows.
    let heard = 0;
    while (heard < 3200 && performance.now() - started < 3000) {
      heard = client.heard().length;
      expect(heard).toBeLessThanOrEqual((performance.now() - started) * 16);
      await delay(10);
    }
    expect(heard).toBe(3200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    expect(Array.from(client.heard().subarray(0, 320))).toEqual(Array.from(ramp(320, 0)));
    expect(Array.from(client.heard().subarray(2880))).toEqual(Array.from(ramp(320, 180)));
  });

  it('acks a mark only when the audio before it has played', async () => {
    const { client, transport, recorder } = await connect();
    sendServerAudio(transport, 200);
    const sentAt = performance.now();
    transport.sendMark('m1');
    expect(client.controlMessages).toEqual([]);
    await recorder.until(() => recorder.marks.length === 1, 2000, 'mark');
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(170);
    expect(recorder.marks).toEqual(['m1']);
    expect(client.controlMessages).toEqual([{ action: 'notify', payload: { mark: 'm1' } }]);
    expect(client.marksPlayed).toEqual(['m1']);
  });

  it('never acks the marks a clear returns', async () => {
    const { client, transport, recorder } = await connect();
    sendServerAudio(transport, 1000);
    transport.sendMark('dropped');
    await delay(100);
    transport.clear();
    transport.sendMark('after'); // nothing queued after the clear: played at once
    await recorder.until(() => recorder.marks.length === 1, 2000, 'mark after clear');
    await expect.poll(() => client.clears).toBe(1);
    expect(client.marksCleared).toEqual(['dropped']);
    expect(recorder.marks).toEqual(['after']);
    // What was cleared is never heard.
    const atClear = client.heard().length;
    expect(atClear).toBeLessThan(16000);
    await delay(60);
    expect(client.heard().length).toBe(atClear);
  });

  it('sends clear even when nothing is queued', async () => {
    const { client, transport } = await connect();
    transport.clear();
    await expect.poll(() => client.clears, { timeout: 2000 }).toBe(1);
    expect(client.controlMessages).toEqual([{ action: 'clear' }]);
  });

  it('passes the caller keypad digits on', async () => {
    const { client, recorder } = await connect();
    client.press('12#');
    client.sendRaw(JSON.stringify({ event: 'websocket:dtmf', dtmf: { digit: '9', duration: 100 } }));
    await recorder.until(() => recorder.dtmf.length === 4);
    expect(recorder.dtmf).toEqual(['1', '2', '#', '9']);
  });

  it('ends as a caller hang-up when Vonage closes the socket', async () => {
    const { client, recorder, transport } = await connect();
    await client.hangUp();
    await recorder.until(() => recorder.close !== undefined);
    expect(recorder.close).toMatchObject({ initiator: 'client', protocolError: false });
    expect(recorder.close?.cause).toBeUndefined();
    await transport.hangUp({ cause: 'completed', reason: 'done' });
    expect(recorder.close?.initiator).toBe('client');
  });

  it('a caller hanging up mid-reply ends cleanly; later audio and marks are dropped', async () => {
    const { client, recorder, transport } = await connect();
    sendServerAudio(transport, 400);
    transport.sendMark('reply-1');
    await delay(60);
    await client.hangUp();
    await recorder.until(() => recorder.close !== undefined);
    expect(recorder.close).toMatchObject({ initiator: 'client', protocolError: false });
    expect(() => {
      sendServerAudio(transport, 40);
      transport.sendMark('late');
      transport.clear();
    }).not.toThrow();
    expect(recorder.marks).toEqual([]);
    // Nothing more is heard once the caller is gone.
    const atHangUp = client.heard().length;
    await delay(60);
    expect(client.heard().length).toBe(atHangUp);
  });

  it('after a successful transfer the close is "transferred" and no REST hang-up follows', async () => {
    const { client, recorder, transport } = await connect();
    const result = await transport.transfer?.(
      { type: 'number', number: '+15550001111' },
      AbortSignal.timeout(1000),
    );
    expect(result).toEqual({ ok: true });
    client.end('transferred');
    await recorder.until(() => recorder.close !== undefined);
    expect(recorder.close?.cause).toBe('transferred');
    expect(await transport.hangUp({ cause: 'completed', reason: 'forwarded' })).toEqual({ ok: true });
    expect(control.calls).toEqual(['transfer']);
  });

  it('after a failed transfer the close is a hang-up again', async () => {
    const { client, recorder, transport } = await connect();
    control.transferResult = { ok: false, error: 'busy' };
    const result = await transport.transfer?.(
      { type: 'number', number: '+15550001111' },
      AbortSignal.timeout(1000),
    );
    expect(result).toEqual({ ok: false, error: 'busy' });
    client.end('caller left');
    await recorder.until(() => recorder.close !== undefined);
    expect(recorder.close?.cause).toBeUndefined();
  });

  it('hangs up through the carrier when the call ends here', async () => {
    const { client, recorder, transport } = await connect();
    expect(await transport.hangUp({ cause: 'completed', reason: 'assistant ended the call' })).toEqual({
      ok: true,
    });
    expect(control.calls).toEqual(['hangUp']);
    expect(recorder.close).toMatchObject({ initiator: 'server', reason: 'assistant ended the call' });
    expect((await client.closed).code).toBe(1000);
  });

  it('sends DTMF through the carrier control', async () => {
    const { transport } = await connect();
    expect(await transport.sendDtmf?.('123', AbortSignal.timeout(1000))).toEqual({ ok: true });
    expect(control.calls).toEqual(['dtmf:123']);
  });

  describe('refuses a broken stream with a reason', () => {
    const cases: [string, (c: VonageMediaClient) => void, number, RegExp][] = [
      ['malformed JSON', (c) => c.sendRaw('{"event":'), 1008, /not JSON/],
      ['a message without event', (c) => c.sendRaw('{"action":"x"}'), 1008, /no event/],
      ['odd-length audio', (c) => c.sendRaw(Buffer.alloc(641)), 1008, /odd-length/],
      [
        'a second websocket:connected',
        (c) =>
          c.sendRaw(JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000' })),
        1008,
        /second start/,
      ],
      [
        'invalid DTMF',
        (c) => c.sendRaw(JSON.stringify({ event: 'websocket:dtmf', digit: 'x' })),
        1008,
        /DTMF/,
      ],
      ['an oversized message', (c) => c.sendRaw(Buffer.alloc(70 * 1024)), 1009, /over 65536 bytes/],
      [
        'a flood',
        (c) => {
          for (let i = 0; i < 600; i++) c.sendRaw('{"event":"websocket:cleared"}');
        },
        1008,
        /messages a second/,
      ],
    ];
    for (const [name, send, code, reason] of cases) {
      it(name, async () => {
        const { client, recorder } = await connect();
        send(client);
        const closed = await client.closed;
        expect(closed.code).toBe(code);
        expect(closed.reason).toMatch(reason);
        await recorder.until(() => recorder.close !== undefined);
        expect(recorder.close).toMatchObject({ initiator: 'server', code });
      });
    }
  });

  it('refuses audio before websocket:connected and a socket that never starts', async () => {
    const early = new WebSocket(`${harness.wsUrl}/PC-2/token`);
    await new Promise((resolve) => early.once('open', resolve));
    early.send(Buffer.alloc(640));
    const [code, reason] = await new Promise<[number, string]>((resolve) =>
      early.once('close', (c, r) => resolve([c, r.toString()])),
    );
    expect(code).toBe(1008);
    expect(reason).toMatch(/before websocket:connected/);

    const silent = new WebSocket(`${harness.wsUrl}/PC-3/token`);
    const closed = await new Promise<[number, string]>((resolve) =>
      silent.once('close', (c, r) => resolve([c, r.toString()])),
    );
    expect(closed[0]).toBe(4005);
    const session = harness.sessions[1];
    expect(session?.recorder.close?.cause).toBe('hello-timeout');
  });

  it('refuses an unsupported content-type', async () => {
    const raw = new WebSocket(`${harness.wsUrl}/PC-4/token`);
    await new Promise((resolve) => raw.once('open', resolve));
    raw.send(JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=24000' }));
    const [code, reason] = await new Promise<[number, string]>((resolve) =>
      raw.once('close', (c, r) => resolve([c, r.toString()])),
    );
    expect(code).toBe(1008);
    expect(reason).toMatch(/rate 24000/);
    expect(harness.sessions[0]?.recorder.close).toMatchObject({ protocolError: true });
  });
});
