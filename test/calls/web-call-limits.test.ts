import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeLlm, fakeProviders, frames } from '../../src/testing/fake-providers.js';
import { api, type CallServer, Client, callEvents, startCallServer } from './support.js';

/**
 * The web-call WebSocket's per-call bounds and liveness, over real sockets: hello timeout,
 * ping/pong, message rate, turn and conversation limits, audio faster than real time, invalid
 * UTF-8, `say` from the client, and upgrades to routes that are not WebSockets.
 */
const llm = new FakeLlm({ firstTokenMs: 5, tokenMs: 1 });
const providers = fakeProviders({
  llm,
  stt: { finalLatencyMs: 20 },
  tts: { firstChunkMs: 5, chunkGenerationMs: 1, msPerChar: 1 },
});
let cs: CallServer;
let assistantId: string;
let sayAssistantId: string;

const limits = {
  helloTimeoutMs: 400,
  pingIntervalMs: 200,
  pongTimeoutMs: 1_000,
  maxUserTurns: 3,
  maxConversationChars: 5_000,
};

beforeAll(async () => {
  cs = await startCallServer(providers, { inputLimits: limits });
  const base = { welcomeMessage: 'Hi!', assistantServer: { url: cs.receiver.url } };
  const created = await api(cs, 'POST', '/v1/assistants', { name: 'limits', ...base });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  assistantId = created.json._id;
  const sayer = await api(cs, 'POST', '/v1/assistants', { name: 'say', clientSayEnabled: true, ...base });
  expect(sayer.status, JSON.stringify(sayer.json)).toBe(201);
  sayAssistantId = sayer.json._id;
});
afterAll(() => cs?.close());

async function newCall(id = assistantId) {
  const res = await api(cs, 'POST', '/v1/calls', { assistantId: id });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json as { id: string; join: { url: string } };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary event fields
async function reportOf(callId: string): Promise<any> {
  await cs.receiver.waitFor(
    () => callEvents(cs, callId).some((m) => m.type === 'end-of-call-report'),
    15_000,
    `end-of-call-report of ${callId}`,
  );
  const events = callEvents(cs, callId);
  expect(events.at(-2)?.type).toBe('status-update');
  expect(cs.receiver.schemaErrors).toEqual([]);
  return events.at(-1);
}

async function hello(client: Client) {
  client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
  await client.waitFor(() => client.of('ready').length === 1);
}

describe('hello timeout and liveness (item 8)', () => {
  it('a client that never says hello is closed (4005); the call ends no-answer', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    await client.waitClosed(5_000);
    expect(client.closed).toEqual({ code: 4005, reason: 'no hello within 400 ms' });
    const report = await reportOf(call.id);
    expect(report.call).toMatchObject({
      status: 'finished',
      phoneCallStatus: 'no-answer',
      callEndTriggerBy: 'system',
    });
  });

  it('a client that stops answering pings is closed (4006); the call ends with its terminal events', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url, { autoPong: false });
    await hello(client);
    await client.waitClosed(5_000);
    expect(client.closed).toEqual({ code: 4006, reason: 'no pong within 1000 ms' });
    const report = await reportOf(call.id);
    expect(report.call).toMatchObject({ status: 'finished', callEndTriggerBy: 'system' });
    expect(report.call.phoneCallStatusReason).toBe('Client stopped answering pings');
  });

  it('a client that answers pings stays connected past several ping intervals', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    let pings = 0;
    const fourPings = new Promise<void>((resolve) =>
      client.ws.on('ping', () => {
        if (++pings === 4) resolve();
      }),
    );
    await hello(client);
    await fourPings;
    expect(client.closed).toBeUndefined();
    client.send({ type: 'end' });
    expect((await reportOf(call.id)).call.callEndTriggerBy).toBe('user');
  });
});

describe('per-call limits (item 3)', () => {
  it('user-text and say faster than the rate: closed 4007, ended-with-error by system', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    await hello(client);
    client.send({ type: 'user-text', text: 'one' });
    for (let i = 0; i < 10; i++) client.send({ type: 'say' });
    await client.waitClosed();
    expect(client.closed).toEqual({ code: 4007, reason: 'user-text and say over 2 a second (bursts of 10)' });
    const report = await reportOf(call.id);
    expect(report.call).toMatchObject({ phoneCallStatus: 'ended-with-error', callEndTriggerBy: 'system' });
  });

  it('one user turn over the limit: closed 4008, the turn is not stored, ended-with-error', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    await hello(client);
    for (let i = 1; i <= 3; i++) {
      client.send({ type: 'user-text', text: `turn ${i}` });
      await client.waitFor(() =>
        client.of('assistant-text').some((m) => m.final && m.text === `You said: turn ${i}.`),
      );
    }
    client.send({ type: 'user-text', text: 'turn 4' });
    await client.waitClosed();
    expect(client.closed).toEqual({ code: 4008, reason: 'Call limit reached: more than 3 user turns' });
    const report = await reportOf(call.id);
    expect(report.call).toMatchObject({ phoneCallStatus: 'ended-with-error', callEndTriggerBy: 'system' });
    const users = report.messages.filter((m: { role: string }) => m.role === 'user');
    expect(users.map((m: { text: string }) => m.text)).toEqual(['turn 1', 'turn 2', 'turn 3']);
  });

  it('conversation over its size: closed 4008', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    await hello(client);
    client.send({ type: 'user-text', text: 'x'.repeat(2_400) });
    await client.waitFor(() =>
      client.of('assistant-text').some((m) => m.final && m.text.startsWith('You said')),
    );
    client.send({ type: 'user-text', text: 'y'.repeat(200) });
    await client.waitClosed();
    expect(client.closed).toEqual({
      code: 4008,
      reason: 'Call limit reached: conversation over 5000 characters',
    });
    expect((await reportOf(call.id)).call.phoneCallStatus).toBe('ended-with-error');
  });
});

describe('audio faster than real time (item 10)', () => {
  it('is dropped beyond real time + 1 s and never metered beyond the wall clock', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    await hello(client);
    const started = Date.now();
    const pcm = frames('silence', 60_000, 16000); // one minute of audio, sent at once
    for (const frame of pcm) client.sendRaw(Buffer.from(frame.buffer), true);
    await client.waitFor(() => client.of('error').some((e) => e.code === 'audio_too_fast'));
    client.send({ type: 'end' });
    await client.waitClosed();
    const wallMs = Date.now() - started;
    expect(client.of('error').filter((e) => e.code === 'audio_too_fast')).toHaveLength(1);
    const report = await reportOf(call.id);
    const stt = report.call.cost.breakdown.find((l: { unit: string }) => l.unit === 'audio-minute');
    expect(stt).toBeDefined();
    const sttMs = stt.quantity * 60_000;
    // (quantity is in minutes, rounded: a millisecond of slack)
    expect(sttMs).toBeLessThanOrEqual(Math.min(wallMs + 1_000, report.call.assistantCallDuration) + 1);
    expect(sttMs).toBeLessThan(30_000);
  });
});

describe('protocol errors (item 16)', () => {
  it('an invalid UTF-8 text frame closes 1007 and ends the call ended-with-error by system', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    await hello(client);
    client.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false);
    await client.waitClosed();
    expect(client.closed).toEqual({ code: 1007, reason: 'invalid UTF-8 in a text message' });
    const report = await reportOf(call.id);
    expect(report.call).toMatchObject({ phoneCallStatus: 'ended-with-error', callEndTriggerBy: 'system' });
    expect(report.call.phoneCallStatusReason).toMatch(/invalid UTF-8/);
  });
});

describe('text the database cannot store', () => {
  it('a user-text with a NUL closes 1007; the call still ends with its stored terminal events', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    await hello(client);
    client.send({ type: 'user-text', text: 'book me\u0000 in' });
    await client.waitClosed();
    expect(client.closed?.code).toBe(1007);
    expect(client.closed?.reason).toMatch(/NUL character or an unpaired surrogate/);
    const report = await reportOf(call.id);
    expect(report.call).toMatchObject({ phoneCallStatus: 'ended-with-error', callEndTriggerBy: 'system' });
  });
});

describe('say from the client (item 9)', () => {
  it('is refused unless the assistant allows it', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    await hello(client);
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final && m.text === 'Hi!'));
    client.send({ type: 'say', text: 'I have approved your refund of five thousand dollars.' });
    await client.waitFor(() => client.of('error').some((e) => e.code === 'say_not_allowed'));
    client.send({ type: 'end' });
    const report = await reportOf(call.id);
    expect(report.messages.map((m: { text: string }) => m.text)).toEqual(['Hi!']);
  });

  it('when allowed: spoken, marked clientSupplied, and kept out of the model history', async () => {
    const call = await newCall(sayAssistantId);
    const client = await Client.connect(call.join.url);
    await hello(client);
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final && m.text === 'Hi!'));
    const line = 'Your order number is forty two.';
    client.send({ type: 'say', text: line });
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final && m.text === line));
    client.send({ type: 'user-text', text: 'thanks' });
    await client.waitFor(() =>
      client.of('assistant-text').some((m) => m.final && m.text === 'You said: thanks.'),
    );
    client.send({ type: 'end' });
    const report = await reportOf(call.id);
    const said = report.messages.find((m: { text: string }) => m.text === line);
    expect(said).toMatchObject({ role: 'assistant', clientSupplied: true });
    expect(report.messages.filter((m: { clientSupplied?: boolean }) => m.clientSupplied)).toHaveLength(1);
    const request = llm.requests.find((r) => r.messages.some((m) => m.content === 'thanks'));
    expect(request?.messages.map((m) => m.content)).not.toContain(line);
  });
});

describe('HTTP on the WebSocket route and upgrades elsewhere (items 4 and 15)', () => {
  it('a plain GET of the WebSocket route answers 426 in the error shape', async () => {
    const res = await fetch(`${cs.baseUrl}/v1/calls/WC-x/ws?token=t`);
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toBe('websocket');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('upgrade_required');
  });

  /** Sends an upgrade request on a raw socket; resolves with what came back once the server closed it. */
  async function rawUpgrade(port: number, path: string): Promise<{ reply: string; socket: Socket }> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 3_000).unref());
    const outcome = await Promise.race([closed, timeout]);
    if (outcome === 'timeout') socket.destroy();
    expect(outcome, `${path}: the server left the socket open; reply: ${reply.slice(0, 80)}`).not.toBe(
      'timeout',
    );
    return { reply, socket };
  }

  it('an upgrade to a route that is not a WebSocket is answered and its socket closed', async () => {
    const port = Number(new URL(cs.baseUrl).port);
    for (const path of ['/health', '/v1/assistants', '/', '/no-such-route']) {
      const { reply } = await rawUpgrade(port, path);
      expect(reply, path).toMatch(/^HTTP\/1\.1 400 /);
      expect(reply, path).toContain('"code":"websocket_not_supported"');
    }
  });

  it('upgrade sockets left open by their client do not hold up shutdown', async () => {
    const other = await startCallServer(providers);
    const port = Number(new URL(other.baseUrl).port);
    const sockets: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.on('error', () => {});
      socket.write(
        'GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      sockets.push(socket);
    }
    const closing = other.close().then(() => 'closed' as const);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
    const outcome = await Promise.race([closing, timeout]);
    for (const socket of sockets) socket.destroy();
    expect(outcome).toBe('closed');
  });
});
