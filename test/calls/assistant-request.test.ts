import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { api, type CallServer, Client, startCallServer } from './support.js';

/** Web calls created without an assistant ask the team's server (CONTRACT.md "assistant-request"). */
let cs: CallServer;
let teamServer: WebhookReceiver;
let assistantId: string;
const providers = fakeProviders({
  llm: new FakeLlm({ firstTokenMs: 10, tokenMs: 1 }),
  stt: { finalLatencyMs: 10 },
  tts: { firstChunkMs: 5, chunkGenerationMs: 1, msPerChar: 5 },
});

beforeAll(async () => {
  cs = await startCallServer(providers);
  teamServer = await new WebhookReceiver().start();
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'stored',
    welcomeMessage: 'Stored hello',
    assistantServer: { url: cs.receiver.url },
  });
  assistantId = created.json._id;
});
afterAll(async () => {
  await teamServer?.stop();
  await cs?.close();
});

/** Joins as a text client, returns the first final assistant text, then ends the call. */
async function talk(url: string): Promise<string> {
  const client = await Client.connect(url);
  client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
  await client.waitFor(() => client.of('assistant-text').some((m) => m.final));
  const text = String(client.of('assistant-text').find((m) => m.final)?.text);
  client.send({ type: 'end' });
  await client.waitClosed();
  return text;
}

async function finished(callId: string) {
  let call: Record<string, unknown> = {};
  await expect
    .poll(async () => {
      call = (await api(cs, 'GET', `/v1/calls/${callId}`)).json;
      return call.status;
    })
    .toBe('finished');
  return call;
}

describe('assistant-request', () => {
  it('needs an assistant when the team has no server', async () => {
    const res = await api(cs, 'POST', '/v1/calls', {});
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe('assistantId');
  });

  it('takes {assistantId, assistantOverrides} and echoes metadata in every later event', async () => {
    const patched = await api(cs, 'PATCH', '/v1/team', {
      server: { url: teamServer.url, secret: 'team-secret-1' },
    });
    expect(patched.status).toBe(200);
    expect(JSON.stringify(patched.json)).not.toContain('team-secret-1');
    teamServer.respond = () => ({
      status: 200,
      body: JSON.stringify({
        assistantId,
        assistantOverrides: { welcomeMessage: 'Overridden hello' },
        metadata: { crm: 42 },
      }),
    });
    const call = (await api(cs, 'POST', '/v1/calls', { metadata: { source: 'test' } })).json;
    expect(call.assistantId).toBe(assistantId);
    const request = teamServer.events.at(-1)!;
    expect(request.message.type).toBe('assistant-request');
    expect(request.message.sequence).toBe(1);
    expect(request.headers['x-interactly-secret']).toBe('team-secret-1');
    expect(await talk(call.join.url)).toBe('Overridden hello');
    await cs.receiver.waitFor(
      () =>
        cs.receiver
          .accepted()
          .some((e) => e.message.call.id === call.id && e.message.type === 'end-of-call-report'),
      10_000,
    );
    const events = cs.receiver.accepted().filter((e) => e.message.call.id === call.id);
    expect(Math.min(...events.map((e) => e.message.sequence))).toBe(2);
    expect(
      events.every((e) => e.message.call.metadata.crm === 42 && e.message.call.metadata.source === 'test'),
    ).toBe(true);
  });

  it('takes an inline assistant', async () => {
    teamServer.respond = () => ({
      status: 200,
      body: JSON.stringify({ assistant: { name: 'inline', welcomeMessage: 'Inline hi' } }),
    });
    const call = (await api(cs, 'POST', '/v1/calls', {})).json;
    expect(await talk(call.join.url)).toBe('Inline hi');
  });

  it('speaks an {"error"} reply to the caller and ends the call', async () => {
    teamServer.respond = () => ({ status: 200, body: JSON.stringify({ error: 'We are closed today' }) });
    const call = (await api(cs, 'POST', '/v1/calls', {})).json;
    expect(await talk(call.join.url)).toBe('We are closed today');
    const ended = await finished(call.id);
    expect(ended.callEndTriggerBy).toBe('system');
    expect(ended.phoneCallStatus).toBe('ended-with-error');
  });

  it('falls back to the default assistant when the server does not answer in time, else apologises', async () => {
    teamServer.respond = () => ({ status: 200, delayMs: 2_000, body: JSON.stringify({ assistantId }) });
    expect((await api(cs, 'PATCH', '/v1/team', { server: { timeoutSeconds: 0.3 } })).status).toBe(200);
    const started = Date.now();
    const apologetic = (await api(cs, 'POST', '/v1/calls', {})).json;
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await talk(apologetic.join.url)).toMatch(/^Sorry/);

    expect((await api(cs, 'PATCH', '/v1/team', { defaultAssistantId: assistantId })).status).toBe(200);
    const call = (await api(cs, 'POST', '/v1/calls', {})).json;
    expect(call.assistantId).toBe(assistantId);
    expect(await talk(call.join.url)).toBe('Stored hello');
    const log = (await api(cs, 'GET', `/v1/webhook-deliveries?callId=${call.id}&eventType=assistant-request`))
      .json;
    expect(log.data[0].status).toBe('failed');
    expect(log.data[0].lastError).toMatch(/timeout/);
  });
});
