import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unloadLocalModels } from '../../src/llm/local/index.js';
import { writeTinyGguf } from '../../src/testing/gguf-writer.js';
import { startAnthropicFake } from '../../src/testing/provider-fakes/anthropic.js';
import { startGeminiFake } from '../../src/testing/provider-fakes/gemini.js';
import type { LlmFake } from '../../src/testing/provider-fakes/openai.js';
import { startOpenAiFake } from '../../src/testing/provider-fakes/openai.js';
import { api, type CallServer, Client, callEvents, startCallServer } from './support.js';

/**
 * Web calls on the cloud LLM providers: the server's own provider catalog (as `parley serve`
 * builds it), the team's credentials pointing each provider at its local protocol fake, the
 * real AI SDK adapters, a function tool answered by the webhook receiver, and flite speaking.
 */
let cs: CallServer;
let modelsDir: string;
const fakes: Record<string, LlmFake> = {};

const toolResultReply = (event: { message: { type: string; toolCallList: { id: string }[] } }) =>
  event.message.type === 'tool-calls'
    ? {
        status: 200,
        body: JSON.stringify({
          results: event.message.toolCallList.map((c) => ({
            toolCallId: c.id,
            result: { booked: true, ref: 'PX-42' },
          })),
        }),
      }
    : undefined;

beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'parley-models-'));
  // A tiny random-weight GGUF that starts a tool call whenever it may (node-llama-cpp's generic syntax).
  await writeTinyGguf(join(modelsDir, 'tiny-tools.gguf'), { favouredToken: '||call:' });
  cs = await startCallServer(undefined, {
    env: {
      PARLEY_MODELS_DIR: modelsDir,
      PARLEY_LOCAL_LLM_THREADS: '1',
      PARLEY_LOCAL_LLM_CONTEXT_SIZE: '4096',
    },
  });
  cs.receiver.respond = toolResultReply;
  fakes.openai = await startOpenAiFake();
  fakes.anthropic = await startAnthropicFake();
  fakes.gemini = await startGeminiFake();
  fakes['openai-compatible'] = await startOpenAiFake({ basePath: '/ollama/v1' });
}, 60_000);
afterAll(async () => {
  await cs?.close();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
  await unloadLocalModels();
  await rm(modelsDir, { recursive: true, force: true });
});

async function setCredential(provider: string, fake: LlmFake) {
  const res = await api(cs, 'PUT', `/v1/provider-credentials/${provider}`, {
    apiKey: fake.apiKey,
    baseUrl: fake.baseUrl,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
}

async function createAssistant(body: Record<string, unknown>) {
  const res = await api(cs, 'POST', '/v1/assistants', {
    name: `calls on ${String(body.assistantProvider)}`,
    welcomeMessage: 'Hello, this is the booking line.',
    assistantSystemPrompt: 'You book tables.',
    assistantTemperature: 0.3,
    assistantMaxTokens: 120,
    assistantServer: { url: cs.receiver.url },
    // No post-call summary: each test counts the requests its turns make.
    assistantAnalysis: { summary: { enabled: false } },
    tools: [
      {
        type: 'function',
        name: 'bookTable',
        description: 'Books a table',
        parameters: { type: 'object', properties: { people: { type: 'integer' } }, required: ['people'] },
        server: { url: cs.receiver.url },
      },
    ],
    ...body,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json._id as string;
}

const eventsOf = (callId: string) => callEvents(cs, callId);

async function runCall(assistantId: string, userTurns: string[], beforeTurn?: (index: number) => void) {
  const created = await api(cs, 'POST', '/v1/calls', { assistantId });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const client = await Client.connect(created.json.join.url);
  client.send({ type: 'hello', version: 1, sampleRate: 16000 });
  await client.waitFor(() => client.of('assistant-text').some((m) => m.final), 15_000, 'welcome');
  for (const [i, text] of userTurns.entries()) {
    beforeTurn?.(i);
    client.send({ type: 'user-text', text });
    await client.waitFor(
      () => client.of('assistant-text').filter((m) => m.final).length >= i + 2,
      20_000,
      `reply ${i + 1}`,
    );
  }
  client.send({ type: 'end' });
  await client.waitClosed();
  const callId = created.json.id as string;
  await cs.receiver.waitFor(
    () => eventsOf(callId).some((m) => m.type === 'end-of-call-report'),
    20_000,
    'end-of-call-report',
  );
  return { callId, client, events: eventsOf(callId) };
}

describe('web calls on each cloud LLM provider (protocol fakes)', () => {
  const cases = [
    { provider: 'openai', model: 'gpt-4o-mini' },
    { provider: 'anthropic', model: 'claude-haiku-4-5' },
    { provider: 'gemini', model: 'gemini-2.5-flash' },
    { provider: 'openai-compatible', model: 'llama3.1:8b' },
  ].map((c) => ({ ...c, fake: () => fakes[c.provider] as LlmFake }));

  for (const c of cases) {
    it(`${c.provider}: streams replies, calls a tool through the webhook, sends the assistant's settings`, async () => {
      const fake = c.fake();
      await setCredential(c.provider, fake);
      const assistantId = await createAssistant({ assistantProvider: c.provider, assistantModel: c.model });
      fake.reply({ toolCalls: [{ name: 'bookTable', arguments: { people: 2 } }] });
      fake.reply({ text: ['Your table ', 'for two ', 'is booked.'] });
      const before = fake.requests.length;
      const { callId, client, events } = await runCall(assistantId, ['A table for two, please.']);
      // The API serves the same events, in order, from storage.
      const stored = await api(cs, 'GET', `/v1/calls/${callId}/events`);
      expect(stored.json.data.map((e: { event: { id: string } }) => e.event.id)).toEqual(
        events.map((m) => m.id),
      );

      expect(
        client
          .of('assistant-text')
          .filter((m) => m.final)
          .map((m) => m.text),
      ).toContain('Your table for two is booked.');
      const toolCalls = events.find((m) => m.type === 'tool-calls');
      expect(toolCalls?.toolCallList[0]).toMatchObject({
        type: 'function',
        function: { name: 'bookTable', arguments: { people: 2 } },
      });
      const sent = fake.requests.slice(before);
      expect(sent).toHaveLength(2); // the tool call, then the reply with its result
      expect(sent[0]?.observed).toMatchObject({ model: c.model, temperature: 0.3, maxTokens: 120 });
      expect(sent[0]?.observed.system).toContain('You book tables.');
      expect(sent[0]?.observed.tools.map((t) => t.name)).toContain('bookTable');
      // The second request carries the tool's result back to the model.
      expect(JSON.stringify(sent[1]?.body)).toContain('PX-42');

      const report = events.find((m) => m.type === 'end-of-call-report');
      const texts = report.messages.map((m: { role: string; text: string }) => `${m.role}:${m.text}`);
      expect(texts).toContain('user:A table for two, please.');
      expect(texts).toContain('assistant:Your table for two is booked.');
      expect(events.filter((m) => m.type === 'error')).toEqual([]);
      expect(cs.receiver.schemaErrors).toEqual([]);
    }, 60_000);
  }
});

describe('web call on the local GGUF provider (node-llama-cpp, a model the test writes)', () => {
  it('the model runs in-process, calls a tool with schema-valid arguments through the webhook', async () => {
    const assistantId = await createAssistant({
      assistantProvider: 'local',
      assistantModel: 'tiny-tools.gguf',
      assistantMaxTokens: 64,
      tools: [
        {
          type: 'function',
          name: 'bookTable',
          description: 'Books a table',
          parameters: {
            type: 'object',
            properties: { size: { type: 'string', enum: ['small', 'large'] } },
            required: ['size'],
          },
          server: { url: cs.receiver.url },
        },
      ],
    });
    const created = await api(cs, 'POST', '/v1/calls', { assistantId });
    const client = await Client.connect(created.json.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000 });
    await client.waitFor(() => client.of('assistant-text').some((m) => m.final), 15_000, 'welcome');
    client.send({ type: 'user-text', text: 'A table, please.' });
    const callId = created.json.id as string;
    await cs.receiver.waitFor(
      () => eventsOf(callId).some((m) => m.type === 'tool-calls'),
      30_000,
      'tool-calls',
    );
    client.send({ type: 'end' });
    await client.waitClosed();
    await cs.receiver.waitFor(() => eventsOf(callId).some((m) => m.type === 'end-of-call-report'), 20_000);
    const call = eventsOf(callId).find((m) => m.type === 'tool-calls').toolCallList[0];
    expect(call.function.name).toBe('bookTable');
    expect(['small', 'large']).toContain(call.function.arguments.size);
    const errors = eventsOf(callId).filter((m) => m.type === 'error');
    expect(errors).toEqual([]);
    expect(cs.receiver.schemaErrors).toEqual([]);
  }, 60_000);
});

describe('LLM retry without a fallback', () => {
  it('a 503 before any text is asked once more of the same provider; the caller still gets the reply', async () => {
    const fake = fakes.openai as LlmFake;
    await setCredential('openai', fake);
    const assistantId = await createAssistant({
      assistantProvider: 'openai',
      assistantModel: 'gpt-4o-mini',
      tools: [],
    });
    const before = fake.requests.length;
    fake.reply({ text: ['Answer ', 'after a retry.'] });
    const { events } = await runCall(assistantId, ['a question'], () => fake.failWithStatus(503));
    expect(fake.requests.length - before).toBe(2);
    const errors = events.filter((m) => m.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toMatchObject({ type: 'llm_error', provider: 'openai', retryable: true });
    expect(errors[0].error.message).toContain('retried once');
    const report = events.find((m) => m.type === 'end-of-call-report');
    expect(report.messages.map((m: { text: string }) => m.text)).toContain('Answer after a retry.');
  }, 60_000);
});

describe('LLM fallback', () => {
  it('a primary that answers 5xx mid-call: the call finishes on the fallback; the error event says so', async () => {
    const primary = fakes.openai as LlmFake;
    const backup = await startOpenAiFake({ basePath: '/compat/v1' });
    fakes.backup = backup;
    await setCredential('openai', primary);
    await setCredential('openai-compatible', backup);
    const assistantId = await createAssistant({
      assistantProvider: 'openai',
      assistantModel: 'gpt-4o-mini',
      assistantFallback: { provider: 'openai-compatible', model: 'llama3.1:8b' },
      tools: [],
    });
    primary.reply({ text: ['First answer ', 'from the primary.'] });
    backup.reply({ text: ['Second answer ', 'from the fallback.'] });
    backup.reply({ text: ['Third answer, ', 'still the fallback.'] });
    const primaryBefore = primary.requests.length;
    const { events } = await runCall(
      assistantId,
      ['first question', 'second question', 'third question'],
      (turn) => {
        if (turn === 1) primary.failWithStatus(503); // mid-call: the second turn's request fails
      },
    );

    expect(primary.requests.length - primaryBefore).toBe(2); // the good turn, then the 503; never again
    expect(backup.requests.map((r) => r.observed.model)).toEqual(['llama3.1:8b', 'llama3.1:8b']);
    const errors = events.filter((m) => m.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toMatchObject({ type: 'llm_error', provider: 'openai', retryable: true });
    expect(errors[0].error.message).toContain('continuing with fallback provider openai-compatible');
    const report = events.find((m) => m.type === 'end-of-call-report');
    const spoken = report.messages.map((m: { role: string; text: string }) => `${m.role}:${m.text}`);
    expect(spoken).toEqual([
      'assistant:Hello, this is the booking line.',
      'user:first question',
      'assistant:First answer from the primary.',
      'user:second question',
      'assistant:Second answer from the fallback.',
      'user:third question',
      'assistant:Third answer, still the fallback.',
    ]);
    expect(report.call.status).toBe('finished');
    // Tokens are billed to whoever produced them: the fallback's turns to the fallback.
    const llmLines = report.call.cost.breakdown.filter((b: { kind: string }) => b.kind === 'llm');
    expect(llmLines.map((b: { vendor: string; model: string }) => `${b.vendor}/${b.model}`)).toEqual(
      expect.arrayContaining(['openai/gpt-4o-mini', 'openai-compatible/llama3.1:8b']),
    );
    expect(cs.receiver.schemaErrors).toEqual([]);
  }, 60_000);
});
