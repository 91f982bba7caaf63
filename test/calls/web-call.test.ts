import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeLlm, fakeProviders, frames } from '../../src/testing/fake-providers.js';
import { api, type CallServer, Client, callEvents, startCallServer } from './support.js';

/** Over a real WebSocket, with the real webhook outbox delivering to a loopback receiver. */
let cs: CallServer;
const providers = fakeProviders({
  llm: new FakeLlm({ firstTokenMs: 40, tokenMs: 5 }),
  stt: { finalLatencyMs: 40 },
  tts: { firstChunkMs: 20, chunkGenerationMs: 2, msPerChar: 20 },
});
let assistantId: string;

beforeAll(async () => {
  cs = await startCallServer(providers);
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'web test',
    welcomeMessage: 'Hi there!',
    assistantServer: { url: cs.receiver.url },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  assistantId = created.json._id;
});
afterAll(() => cs?.close());

const eventTypes = (callId: string) => callEvents(cs, callId).map((m) => m.type as string);

const waitForReport = (callId: string) =>
  cs.receiver.waitFor(
    () => eventTypes(callId).includes('end-of-call-report'),
    15_000,
    `end-of-call-report of ${callId}`,
  );

async function newCall(body: Record<string, unknown> = { assistantId }) {
  const res = await api(cs, 'POST', '/v1/calls', body);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  expect(res.json.id).toMatch(/^WC-[0-9a-f-]{36}$/);
  expect(res.json.status).toBe('queued');
  expect(res.json.join.url).toContain(`/v1/calls/${res.json.id}/ws?token=`);
  return res.json as { id: string; join: { url: string } };
}

describe('web calls over the WebSocket', () => {
  it('text: hello, user-text, reply, end → every event delivered in contract order', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final && m.text === 'Hi there!'));
    client.send({ type: 'user-text', text: 'hello robot' });
    await client.waitFor(() =>
      client.of('assistant-text').some((m) => m.final && m.text === 'You said: hello robot.'),
    );
    client.send({ type: 'end' });
    await client.waitClosed();
    expect(client.closed?.code).toBe(1000);
    await waitForReport(call.id);
    expect(eventTypes(call.id)).toEqual([
      'status-update',
      'status-update',
      'conversation-update',
      'conversation-update',
      'conversation-update',
      'status-update',
      'end-of-call-report',
    ]);
    expect(cs.receiver.schemaErrors).toEqual([]);
    expect(client.of('ready')[0]).toMatchObject({ version: 1, callId: call.id });
    const stored = await api(cs, 'GET', `/v1/calls/${call.id}`);
    expect(stored.json).toMatchObject({
      status: 'finished',
      callEndTriggerBy: 'user',
      phoneCallStatus: 'completed',
    });
  });

  it('audio: PCM16 frames in, paced audio out with marks, transcript, reply, hang-up', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, frameMs: 20 });
    await client.waitFor(() =>
      client.of('assistant-text').some((m) => m.final && m.messageId === 'welcome-1'),
    );
    providers.fakeStt.willHear('book me a table');
    const pcm = [...frames('speech', 800, 16000), ...frames('silence', 700, 16000)];
    for (const frame of pcm) {
      client.sendRaw(Buffer.from(frame.buffer), true);
      await new Promise((r) => setTimeout(r, 20)); // a caller speaks in real time
    }
    await client.waitFor(() =>
      client.of('assistant-text').some((m) => m.final && m.text === 'You said: book me a table.'),
    );
    expect(client.of('transcript').some((t) => t.final && t.text === 'book me a table')).toBe(true);
    expect(client.audioFrames).toBeGreaterThan(10);
    expect(client.of('mark').length).toBeGreaterThan(0);
    client.ws.close(1000, 'bye');
    await waitForReport(call.id);
    expect(cs.receiver.schemaErrors).toEqual([]);
    const report = cs.receiver
      .accepted()
      .find((e) => e.message.call.id === call.id && e.message.type === 'end-of-call-report');
    expect(report?.message.call.callEndTriggerBy).toBe('user');
    const user = report?.message.messages.find((m: { role: string }) => m.role === 'user');
    expect(user.metrics.stt.vadMs).toBeGreaterThanOrEqual(700);
    expect(user.metrics.audio.totalAudioReceivedMs).toBeGreaterThanOrEqual(1300);
    const reply = report?.message.messages.at(-1);
    expect(reply.metrics.tts.audioDurationMs).toBeGreaterThan(0);
    expect(reply.metrics.llm.responseLatencyMs).toBeGreaterThanOrEqual(40);
  });

  it('refuses a bad token and an unknown call', async () => {
    const call = await newCall();
    const bad = await Client.connect(call.join.url.replace(/token=.*/, 'token=nope'));
    await bad.waitClosed();
    expect(bad.closed?.code).toBe(4401);
    const ok = await Client.connect(call.join.url);
    const again = await Client.connect(call.join.url);
    await again.waitClosed();
    expect(again.closed?.code).toBe(4401); // single use
    ok.send({ type: 'end' });
    await waitForReport(call.id);
  });

  const malformed: [string, (c: Client) => void, number, RegExp][] = [
    ['bad JSON', (c) => c.sendRaw('{"type": "hello",', false), 1007, /invalid JSON/],
    ['an unknown type', (c) => c.send({ type: 'dance' }), 4001, /unknown message type "dance"/],
    [
      'a wrong frame size',
      (c) => c.sendRaw(Buffer.alloc(333), true),
      4003,
      /audio frame of 333 bytes; expected 640/,
    ],
    [
      'a 10 MB frame',
      (c) => c.sendRaw(Buffer.alloc(10 * 1024 * 1024), true),
      1009,
      /message over 65536 bytes/,
    ],
    ['an invalid message', (c) => c.send({ type: 'user-text', text: 42 }), 1007, /invalid user-text/],
  ];
  for (const [what, send, code, reason] of malformed) {
    it(`closes on ${what} with ${code}, stays up, and still ends the call with its terminal events`, async () => {
      const call = await newCall();
      const client = await Client.connect(call.join.url);
      client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
      await client.waitFor(() => client.of('ready').length === 1);
      send(client);
      await client.waitClosed();
      expect(client.closed?.code).toBe(code);
      expect(client.closed?.reason).toMatch(reason);
      await waitForReport(call.id);
      const types = eventTypes(call.id);
      expect(types.filter((t) => t === 'end-of-call-report')).toHaveLength(1);
      expect(types.at(-2)).toBe('status-update');
      const last = cs.receiver
        .accepted()
        .find((e) => e.message.call.id === call.id && e.message.type === 'end-of-call-report');
      expect(last?.message.call.phoneCallStatus).toBe('ended-with-error');
      expect(last?.message.call.callEndTriggerBy).toBe('system');
      expect((await fetch(`${cs.baseUrl}/health`)).status).toBe(200);
    });
  }

  it('closes on audio before hello; the never-connected call still gets its terminal events', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    client.sendRaw(Buffer.alloc(640), true);
    await client.waitClosed();
    expect(client.closed).toEqual({ code: 4002, reason: 'audio before hello' });
    await waitForReport(call.id);
    expect(eventTypes(call.id)).toEqual(['status-update', 'status-update', 'end-of-call-report']);
    const report = cs.receiver
      .accepted()
      .find((e) => e.message.call.id === call.id && e.message.type === 'end-of-call-report');
    expect(report?.message.call).toMatchObject({ status: 'finished', phoneCallStatus: 'failed' });
    expect(cs.receiver.schemaErrors).toEqual([]);
  });

  it('POST /v1/calls/:id/end ends a live call; validates the body', async () => {
    const call = await newCall();
    const client = await Client.connect(call.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 8000, audioOutput: false });
    await client.waitFor(() => client.of('ready').length === 1);
    const ended = await api(cs, 'POST', `/v1/calls/${call.id}/end`);
    expect(ended.status).toBe(200);
    expect(ended.json).toMatchObject({ status: 'finished', callEndTriggerBy: 'system' });
    await client.waitClosed();
    const again = await api(cs, 'POST', `/v1/calls/${call.id}/end`);
    expect(again.status).toBe(200);
    expect((await api(cs, 'POST', '/v1/calls/WC-nope/end')).status).toBe(404);
    const bad = await api(cs, 'POST', '/v1/calls', {});
    expect(bad.status).toBe(400);
    const missing = await api(cs, 'POST', '/v1/calls', { assistantId: '65f000000000000000000000' });
    expect(missing.status).toBe(404);
    const schema = await fetch(`${cs.baseUrl}/v1/schemas/web-call`);
    expect(schema.status).toBe(200);
    const doc = (await schema.json()) as {
      clientMessage: { anyOf: unknown[] };
      closeCodes: Record<string, number>;
    };
    expect(doc.clientMessage.anyOf).toHaveLength(5);
    expect(doc.closeCodes.wrongFrameSize).toBe(4003);
    const page = await fetch(`${cs.baseUrl}/call`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain("type: 'hello', version: 1");
    const openapi = (await (await fetch(`${cs.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/calls/{id}/end', '/v1/schemas/web-call']),
    );
  });
});

describe('barge-in over the WebSocket', () => {
  it('the caller talks over a long reply: clear, heard prefix with interrupted, late marks ignored', async () => {
    const long =
      'Let me tell you about our opening hours. We open at eight in the morning on weekdays. On Saturdays we open at ten. On Sundays we are closed all day.';
    const created = await api(cs, 'POST', '/v1/assistants', {
      name: 'barge',
      welcomeMessage: long,
      welcomeMessageInterruptionsEnabled: true,
      assistantServer: { url: cs.receiver.url },
    });
    const res = await api(cs, 'POST', '/v1/calls', { assistantId: created.json._id });
    const client = await Client.connect(res.json.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000 });
    await client.waitFor(() => client.audioFrames >= 40); // ~0.8 s of the welcome has played
    providers.fakeStt.willHear('stop please');
    for (const frame of [...frames('speech', 700, 16000), ...frames('silence', 700, 16000)]) {
      client.sendRaw(Buffer.from(frame.buffer), true);
      await new Promise((r) => setTimeout(r, 20));
    }
    await client.waitFor(() =>
      client.of('assistant-text').some((m) => m.final && m.messageId === 'welcome-1'),
    );
    expect(client.of('clear').length).toBeGreaterThanOrEqual(1);
    const welcome = client.of('assistant-text').find((m) => m.final && m.messageId === 'welcome-1');
    expect(welcome?.interrupted).toBe(true);
    expect(welcome?.text.length).toBeGreaterThan(0);
    expect(long.startsWith(welcome?.text)).toBe(true);
    expect(welcome?.text.length).toBeLessThan(long.length);
    client.send({ type: 'mark', id: 'm999999' }); // a late or unknown mark is ignored
    await client.waitFor(() => client.of('transcript').some((t) => t.final && t.text === 'stop please'));
    client.send({ type: 'end' });
    await client.waitClosed();
    await waitForReport(res.json.id);
    expect(cs.receiver.schemaErrors).toEqual([]);
  });
});
