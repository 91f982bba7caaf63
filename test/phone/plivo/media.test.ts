import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { mulawDecode, mulawEncode } from '../../../src/audio/g711.js';
import { PlivoMediaClient } from '../../../src/testing/carriers/plivo/media-client.js';
import type { CallControl, MediaContext } from '../../../src/transports/phone/carrier.js';
import { plivoCarrier } from '../../../src/transports/phone/plivo/carrier.js';
import type { PlivoMediaStream } from '../../../src/transports/phone/plivo/media.js';
import type { TransportClose, TransportHello } from '../../../src/transports/transport.js';

/** What the stub call saw, with a way to await a condition on it without sleeping. */
class Recorder {
  hello: TransportHello | undefined;
  frames: Int16Array[] = [];
  marks: string[] = [];
  dtmf: string[] = [];
  close: TransportClose | undefined;
  controlCalls: string[] = [];
  private waiters: (() => void)[] = [];

  changed(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  async until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the media stream');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, Math.max(1, deadline - Date.now())).unref();
      });
    }
  }
}

let server: Server | undefined;
let wss: WebSocketServer | undefined;
const clients: PlivoMediaClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  wss?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  }
  server = undefined;
  wss = undefined;
});

async function setup(options: { helloTimeoutMs?: number; transferOk?: boolean; sendStart?: boolean } = {}) {
  const rec = new Recorder();
  const control: CallControl = {
    hangUp: async () => {
      rec.controlCalls.push('hangUp');
      return { ok: true };
    },
    transfer: async (to) => {
      rec.controlCalls.push(`transfer ${to.type === 'number' ? to.number : to.sipUri}`);
      return options.transferOk === false ? { ok: false, error: 'busy' } : { ok: true };
    },
    sendDtmf: async (digits) => {
      rec.controlCalls.push(`dtmf ${digits}`);
      return { ok: true };
    },
  };
  const context: MediaContext = {
    callId: 'PC-test',
    control,
    limits: { helloTimeoutMs: options.helloTimeoutMs ?? 5000 },
  };
  server = createServer();
  wss = new WebSocketServer({ server });
  const transport = new Promise<PlivoMediaStream>((resolve) => {
    wss?.on('connection', (socket) => {
      const t = plivoCarrier.createMedia(socket, context) as PlivoMediaStream;
      const record = (update: () => void) => {
        update();
        rec.changed();
      };
      t.start({
        onHello: (hello) =>
          record(() => {
            rec.hello = hello;
          }),
        onAudio: (frame) => record(() => rec.frames.push(frame.slice())),
        onUserText: () => {},
        onDtmf: (digits) => record(() => rec.dtmf.push(digits)),
        onMark: (id) => record(() => rec.marks.push(id)),
        onSay: () => {},
        onEnd: () => {},
        onClose: (info) =>
          record(() => {
            rec.close = info;
          }),
      });
      resolve(t);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const client = new PlivoMediaClient({
    url: `ws://127.0.0.1:${port}/telephony/plivo/media/PC-test/token`,
    carrierCallId: 'b5a5c5e0-0000-4000-8000-000000000001',
    accountId: 'MAXXXXXXXXXXXXXXXXXX',
    ...(options.sendStart === false ? { sendStart: false } : {}),
  });
  clients.push(client);
  await client.ready;
  const t = await transport;
  if (options.sendStart !== false) await rec.until(() => rec.hello !== undefined);
  return { rec, client, transport: t };
}

const tone = (samples: number, amplitude = 8000) =>
  Int16Array.from({ length: samples }, (_, i) =>
    Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 8000)),
  );
const frame = (value = 3000) => new Int16Array(160).fill(value);

describe('Plivo media stream', () => {
  it('start → hello at 8 kHz with the stream and call ids', async () => {
    const { rec, transport, client } = await setup();
    expect(rec.hello).toEqual({ sampleRate: 8000, frameMs: 20, audioOutput: true, marks: true });
    expect(transport.streamId).toBe(client.streamId);
    expect(transport.carrierCallId).toBe('b5a5c5e0-0000-4000-8000-000000000001');
    expect(transport.providerName).toBe('plivo');
  });

  it('caller audio arrives as exact 20-ms frames, paced in real time', async () => {
    const { rec, client } = await setup();
    const pcm = tone(800); // 100 ms
    const started = performance.now();
    await client.speak(pcm, 8000);
    await rec.until(() => rec.frames.length === 5);
    expect(performance.now() - started).toBeGreaterThanOrEqual(75); // 5 messages at 0, 20 … 80 ms
    expect(rec.frames.every((f) => f.length === 160)).toBe(true);
    const expected = mulawDecode(mulawEncode(pcm));
    expect(Array.from(rec.frames.flatMap((f) => Array.from(f)))).toEqual(Array.from(expected));
  });

  it('a gap in the timestamps becomes silence (epoch-ms timestamps, made relative)', async () => {
    const { rec, client } = await setup();
    const bytes = mulawEncode(frame());
    client.sendMedia(bytes, 1_686_716_541_461);
    client.sendMedia(bytes, 1_686_716_541_461 + 200);
    await rec.until(() => rec.frames.length === 11);
    expect(rec.frames[0]?.[0]).not.toBe(0);
    for (let i = 1; i <= 9; i++) expect(rec.frames[i]?.every((s) => s === 0)).toBe(true);
    expect(rec.frames[10]?.[0]).not.toBe(0);
  });

  it('marks are acked only after their audio played; marks echoed by a clear are not', async () => {
    const { rec, client, transport } = await setup();
    const sentAt = performance.now();
    for (let i = 0; i < 10; i++) transport.sendAudio(frame()); // 200 ms
    transport.sendMark('a');
    await rec.until(() => rec.marks.includes('a'));
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(180);
    expect(client.marksPlayed).toEqual(['a']);

    for (let i = 0; i < 25; i++) transport.sendAudio(frame()); // 500 ms
    transport.sendMark('b');
    transport.clear();
    transport.sendMark('c'); // nothing queued after the clear: played at once
    await rec.until(() => rec.marks.includes('c'));
    expect(client.clears).toBe(1);
    expect(client.marksEchoedOnClear).toEqual(['b']);
    expect(rec.marks).toEqual(['a', 'c']);
    // The caller heard the first 200 ms and at most a little of the cleared 500 ms.
    expect(client.heard().length).toBeLessThan(1600 + 800);
    expect(client.protocolErrors).toEqual([]);
  });

  it('clear is sent even when nothing is queued', async () => {
    const { client, transport } = await setup();
    transport.clear();
    await expect.poll(() => client.clears, { timeout: 2000, interval: 5 }).toBe(1);
    expect(client.received.map((m) => m.event)).toEqual(['clearAudio']);
  });

  it('DTMF digits reach the call; invalid ones close the stream', async () => {
    const { rec, client } = await setup();
    client.press('1#');
    await rec.until(() => rec.dtmf.length === 2);
    expect(rec.dtmf).toEqual(['1', '#']);
    client.press('x');
    await rec.until(() => rec.close !== undefined);
    expect(rec.close).toMatchObject({ protocolError: true, reason: expect.stringContaining('invalid DTMF') });
  });

  it('stop → the caller hung up', async () => {
    const { rec, client } = await setup();
    await client.hangUp();
    await rec.until(() => rec.close !== undefined);
    expect(rec.close).toMatchObject({ initiator: 'client', protocolError: false });
    expect(rec.close?.cause).toBeUndefined();
  });

  it('after a transfer, stop is "transferred" and hangUp does not call the REST hang-up', async () => {
    const { rec, client, transport } = await setup();
    const result = await transport.transfer(
      { type: 'number', number: '+14155550111' },
      new AbortController().signal,
    );
    expect(result).toEqual({ ok: true });
    client.endStream();
    await rec.until(() => rec.close !== undefined);
    expect(rec.close).toMatchObject({ cause: 'transferred', reason: 'transferred' });
    expect(await transport.hangUp({ cause: 'completed', reason: 'forwarded' })).toEqual({ ok: true });
    expect(rec.controlCalls).toEqual(['transfer +14155550111']);
  });

  it('a failed transfer keeps the call; a later hang-up goes through REST', async () => {
    const { rec, client, transport } = await setup({ transferOk: false });
    const result = await transport.transfer(
      { type: 'number', number: '+14155550111' },
      new AbortController().signal,
    );
    expect(result).toEqual({ ok: false, error: 'busy' });
    await transport.hangUp({ cause: 'completed', reason: 'done' });
    expect(rec.controlCalls).toEqual(['transfer +14155550111', 'hangUp']);
    expect((await client.closed).code).toBe(1000);
    expect(rec.close).toMatchObject({ initiator: 'server', reason: 'done' });
  });

  it('malformed JSON, media before start, oversized messages and floods close the socket with a reason', async () => {
    const bad = await setup();
    bad.client.sendRaw('{not json');
    expect(await bad.client.closed).toEqual({ code: 1008, reason: 'malformed message: not JSON' });
    expect(bad.rec.close).toMatchObject({ protocolError: true, initiator: 'server' });

    const early = await setup({ sendStart: false });
    early.client.sendMedia(new Uint8Array(160), 0);
    expect((await early.client.closed).reason).toBe('malformed message: media before start');

    const big = await setup();
    big.client.sendRaw(JSON.stringify({ event: 'media', media: { payload: 'A'.repeat(70_000) } }));
    expect((await big.client.closed).code).toBe(1009);

    const flood = await setup();
    for (let i = 0; i < 600; i++) flood.client.sendRaw('{"event":"clearedAudio"}');
    expect(await flood.client.closed).toEqual({ code: 1008, reason: 'more than 250 messages a second' });
  });

  it('no start within the hello timeout closes 4005', async () => {
    const { rec, client } = await setup({ helloTimeoutMs: 100, sendStart: false });
    expect((await client.closed).code).toBe(4005);
    expect(rec.close?.cause).toBe('hello-timeout');
  });
});
