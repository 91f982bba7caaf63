import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCartesiaFake } from '../../src/testing/provider-fakes/cartesia.js';
import { startDeepgramSttFake } from '../../src/testing/provider-fakes/deepgram-stt.js';
import { startDeepgramTtsFake } from '../../src/testing/provider-fakes/deepgram-tts.js';
import { startElevenLabsFake } from '../../src/testing/provider-fakes/elevenlabs.js';
import { type LlmFake, startOpenAiFake } from '../../src/testing/provider-fakes/openai.js';
import { startOpenAiSttFake } from '../../src/testing/provider-fakes/openai-stt.js';
import { startOpenAiTtsFake } from '../../src/testing/provider-fakes/openai-tts.js';
import type { PcmTtsFake } from '../../src/testing/provider-fakes/pcm-tts-fake.js';
import { toneBursts, writeCharacterVitsModel, writeToneCtcModel } from '../../src/testing/sherpa-models.js';
import { createFliteTts } from '../../src/tts/flite/index.js';
import { api, type CallServer, Client, callEvents, startCallServer } from './support.js';

/**
 * Web calls on each cloud and model-file TTS provider: the server's own provider catalog, the
 * team's credentials pointing at each provider's protocol fake (or a tiny sherpa-onnx voice the
 * test writes into the models directory), the OpenAI LLM fake as the brain.
 */
let cs: CallServer;
let llm: LlmFake;
let modelsDir: string;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'parley-models-'));
  await writeCharacterVitsModel(join(modelsDir, 'voices', 'chars'));
  await writeToneCtcModel(join(modelsDir, 'stt', 'tones'));
  cs = await startCallServer(undefined, { env: { PARLEY_MODELS_DIR: modelsDir } });
  llm = await startOpenAiFake();
  closers.push(() => llm.close());
  for (const provider of ['openai', 'openai-compatible']) {
    const res = await api(cs, 'PUT', `/v1/provider-credentials/${provider}`, {
      apiKey: llm.apiKey,
      baseUrl: llm.baseUrl,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
  }
}, 60_000);
afterAll(async () => {
  await cs?.close();
  for (const close of closers) await close();
  await rm(modelsDir, { recursive: true, force: true });
});

const eventsOf = (callId: string) => callEvents(cs, callId);

async function textCallWithAudio(assistant: Record<string, unknown>) {
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'speech provider call',
    assistantProvider: 'openai',
    assistantModel: 'gpt-4o-mini',
    welcomeMessage: 'Welcome to the fake voice.',
    assistantServer: { url: cs.receiver.url },
    assistantAnalysis: { summary: { enabled: false } },
    ...assistant,
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const call = await api(cs, 'POST', '/v1/calls', { assistantId: created.json._id });
  const client = await Client.connect(call.json.join.url);
  client.send({ type: 'hello', version: 1, sampleRate: 16000 });
  const finals = () => client.of('assistant-text').filter((m) => m.final);
  await client.waitFor(() => finals().length >= 1, 20_000, 'welcome');
  const welcomeFrames = client.audioFrames;
  llm.reply({ text: ['Sure, ', 'I can ', 'help.'] });
  client.send({ type: 'user-text', text: 'Can you help me?' });
  await client.waitFor(() => finals().length >= 2, 20_000, 'reply');
  await client.waitFor(() => client.audioFrames > welcomeFrames, 10_000, 'reply audio');
  client.send({ type: 'end' });
  await client.waitClosed();
  const callId = call.json.id as string;
  await cs.receiver.waitFor(() => eventsOf(callId).some((m) => m.type === 'end-of-call-report'), 20_000);
  return { client, welcomeFrames, events: eventsOf(callId) };
}

describe('web calls on each TTS provider', () => {
  const cloud: { provider: string; start: () => Promise<PcmTtsFake>; text: (body: unknown) => string }[] = [
    { provider: 'elevenlabs', start: () => startElevenLabsFake(), text: (b) => (b as { text: string }).text },
    { provider: 'openai', start: () => startOpenAiTtsFake(), text: (b) => (b as { input: string }).input },
    { provider: 'deepgram', start: () => startDeepgramTtsFake(), text: (b) => (b as { text: string }).text },
    {
      provider: 'cartesia',
      start: () => startCartesiaFake(),
      text: (b) => (b as { transcript: string }).transcript,
    },
  ];
  for (const c of cloud) {
    it(`${c.provider}: the welcome and the reply are synthesised by the provider and played`, async () => {
      const fake = await c.start();
      closers.push(() => fake.close());
      if (c.provider !== 'openai') {
        const res = await api(cs, 'PUT', `/v1/provider-credentials/${c.provider}`, {
          apiKey: fake.apiKey,
          baseUrl: fake.url,
        });
        expect(res.status, JSON.stringify(res.json)).toBe(200);
      } else {
        // OpenAI speech shares the team's OpenAI credential with the LLM; point this call's at the TTS fake.
        await api(cs, 'PUT', '/v1/provider-credentials/openai', { apiKey: fake.apiKey, baseUrl: fake.url });
      }
      const { client, welcomeFrames, events } = await textCallWithAudio({
        assistantProvider: c.provider === 'openai' ? 'openai-compatible' : 'openai',
        config: { speech: { tts: { provider: c.provider } } },
      }).finally(async () => {
        if (c.provider === 'openai')
          await api(cs, 'PUT', '/v1/provider-credentials/openai', {
            apiKey: llm.apiKey,
            baseUrl: llm.baseUrl,
          });
      });
      expect(welcomeFrames).toBeGreaterThan(10);
      expect(client.audioFrames).toBeGreaterThan(welcomeFrames);
      const spoken = fake.requests.map((r) => c.text(r.body)).join(' ');
      expect(spoken).toContain('Welcome to the fake voice.');
      expect(spoken).toContain('help');
      expect(events.filter((m) => m.type === 'error')).toEqual([]);
      const report = events.find((m) => m.type === 'end-of-call-report');
      expect(report.messages.map((m: { text: string }) => m.text)).toContain('Sure, I can help.');
      expect(cs.receiver.schemaErrors).toEqual([]);
    }, 60_000);
  }

  it('sherpa-onnx: a voice from the models directory speaks the call', async () => {
    const { client, welcomeFrames, events } = await textCallWithAudio({
      config: { speech: { tts: { provider: 'sherpa-onnx', model: 'voices/chars' } } },
    });
    expect(welcomeFrames).toBeGreaterThan(10);
    expect(client.audioFrames).toBeGreaterThan(welcomeFrames);
    expect(events.filter((m) => m.type === 'error')).toEqual([]);
  }, 60_000);

  it('a provider without a key: the call gets a non-retryable tts_error that says how to fix it', async () => {
    const key = await cs.server.createKey('team-without-keys');
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(cs.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
      return (await res.json()) as Record<string, any>;
    };
    const assistant = await call('POST', '/v1/assistants', {
      name: 'no key',
      assistantProvider: 'scripted',
      dialog: { start: 'hi', nodes: { hi: { say: 'Hi.', end: true } } },
      welcomeMessage: 'Hi.',
      assistantServer: { url: cs.receiver.url },
      config: { speech: { tts: { provider: 'elevenlabs' } } },
    });
    const created = await call('POST', '/v1/calls', { assistantId: assistant._id });
    const client = await Client.connect(created.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000 });
    await cs.receiver.waitFor(
      () => eventsOf(created.id).some((m) => m.type === 'error'),
      20_000,
      'error event',
    );
    const error = eventsOf(created.id).find((m) => m.type === 'error');
    expect(error.error).toMatchObject({
      type: 'tts_error',
      code: 'missing_credentials',
      provider: 'elevenlabs',
      retryable: false,
    });
    expect(error.error.message).toContain('/v1/provider-credentials/elevenlabs');
    client.send({ type: 'end' });
    await client.waitClosed();
  });
});

/** 20 ms frames of PCM16 at 16 kHz: lead-in silence, the audio, then silence for endpointing. */
function framesOf(pcm: Int16Array): Buffer[] {
  const silence = (ms: number) => new Int16Array((16000 * ms) / 1000);
  const all = new Int16Array([...silence(200), ...pcm, ...silence(900)]);
  const bytes = Buffer.from(all.buffer, all.byteOffset, all.byteLength);
  const out: Buffer[] = [];
  for (let off = 0; off + 640 <= bytes.length; off += 640) out.push(bytes.subarray(off, off + 640));
  return out;
}

async function fliteSpeech(text: string): Promise<Int16Array> {
  const tts = await createFliteTts({ voice: 'kal16' });
  const chunks: Int16Array[] = [];
  for await (const c of tts.synthesize(text, { sampleRate: 16000 }, new AbortController().signal))
    chunks.push(c);
  return Int16Array.from(chunks.flatMap((c) => [...c]));
}

async function spokenCall(stt: Record<string, unknown>, audio: Int16Array, assistantProvider = 'openai') {
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'stt provider call',
    assistantProvider,
    assistantModel: 'gpt-4o-mini',
    welcomeMessage: 'Hi.',
    assistantServer: { url: cs.receiver.url },
    assistantAnalysis: { summary: { enabled: false } },
    config: { speech: { stt } },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const call = await api(cs, 'POST', '/v1/calls', { assistantId: created.json._id });
  const client = await Client.connect(call.json.join.url);
  client.send({ type: 'hello', version: 1, sampleRate: 16000, frameMs: 20 });
  const finals = () => client.of('assistant-text').filter((m) => m.final);
  await client.waitFor(() => finals().length >= 1, 20_000, 'welcome');
  llm.reply({ text: ['I heard you.'] });
  for (const frame of framesOf(audio)) {
    client.sendRaw(frame, true);
    await new Promise((r) => setTimeout(r, 20));
  }
  await client.waitFor(() => client.of('transcript').some((t) => t.final), 15_000, 'final transcript');
  await client.waitFor(() => finals().length >= 2, 20_000, 'reply');
  client.send({ type: 'end' });
  await client.waitClosed();
  const callId = call.json.id as string;
  await cs.receiver.waitFor(() => eventsOf(callId).some((m) => m.type === 'end-of-call-report'), 20_000);
  const events = eventsOf(callId);
  const report = events.find((m) => m.type === 'end-of-call-report');
  const user = report.messages.find((m: { role: string }) => m.role === 'user');
  return { events, user };
}

describe('web calls on each STT provider', () => {
  it('deepgram: caller audio streams over its WebSocket; the final becomes the user turn, with STT metrics', async () => {
    const fake = await startDeepgramSttFake({
      script: [{ text: 'Book a table for two.', interim: ['book a'] }],
    });
    closers.push(() => fake.close());
    const res = await api(cs, 'PUT', '/v1/provider-credentials/deepgram', {
      apiKey: fake.apiKey,
      baseUrl: fake.url.replace(/^ws:/, 'http:'),
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const { events, user } = await spokenCall(
      { provider: 'deepgram', model: 'nova-3' },
      await fliteSpeech('book a table for two'),
    );
    expect(user.text).toBe('Book a table for two.');
    expect(user.metrics.stt).toMatchObject({ confidence: expect.any(Number) });
    expect(fake.connections[0]?.query.get('model')).toBe('nova-3');
    expect(fake.connections[0]?.controlMessages).toContain('Finalize');
    expect(events.filter((m) => m.type === 'error')).toEqual([]);
  }, 60_000);

  it('deepgram: a connection dropped mid-utterance is replaced; the utterance survives; one error event says so', async () => {
    const fake = await startDeepgramSttFake({
      script: [{ text: 'Book a table for two.' }],
      disconnectAfterMs: 300,
    });
    closers.push(() => fake.close());
    await api(cs, 'PUT', '/v1/provider-credentials/deepgram', {
      apiKey: fake.apiKey,
      baseUrl: fake.url.replace(/^ws:/, 'http:'),
    });
    fake.failNext('disconnect');
    const { events, user } = await spokenCall(
      { provider: 'deepgram' },
      await fliteSpeech('book a table for two'),
    );
    expect(fake.connections).toHaveLength(2);
    expect(user.text).toBe('Book a table for two.');
    const errors = events.filter((m) => m.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toMatchObject({ type: 'stt_error', provider: 'deepgram', retryable: true });
    expect(errors[0].error.message).toContain('reconnected to deepgram');
  }, 60_000);

  it('openai: the utterance is uploaded at end of turn and transcribed', async () => {
    const fake = await startOpenAiSttFake({ texts: ['Book a table for two.'] });
    closers.push(() => fake.close());
    await api(cs, 'PUT', '/v1/provider-credentials/openai', { apiKey: fake.apiKey, baseUrl: fake.url });
    const { events, user } = await spokenCall(
      { provider: 'openai', model: 'whisper-1' },
      await fliteSpeech('book a table for two'),
      // The OpenAI credential points at the transcription fake here; the LLM is reached as openai-compatible.
      'openai-compatible',
    ).finally(() =>
      api(cs, 'PUT', '/v1/provider-credentials/openai', { apiKey: llm.apiKey, baseUrl: llm.baseUrl }),
    );
    expect(user.text).toBe('Book a table for two.');
    expect(fake.requests[0]).toMatchObject({ model: 'whisper-1', sampleRate: 16000, channels: 1 });
    expect(events.filter((m) => m.type === 'error')).toEqual([]);
  }, 60_000);

  it('sherpa-onnx: a model from the models directory recognises the caller', async () => {
    const { events, user } = await spokenCall(
      { provider: 'sherpa-onnx', model: 'stt/tones' },
      toneBursts(16000, [
        { hz: 300, ms: 400 },
        { hz: 3000, ms: 400 },
      ]),
    );
    expect(user.text).toMatch(/hello/);
    expect(events.filter((m) => m.type === 'error')).toEqual([]);
  }, 60_000);
});
