/**
 * A team's provider base URL goes through the SSRF guard at connect time, whatever the transport:
 * the AI SDK (an LLM), undici `request` (a TTS), undici `fetch` (OpenAI STT) and the `ws` client
 * (Deepgram STT). With `guard: {allowPrivate: false}` a base URL on 127.0.0.1 (literal, or the
 * name `localhost`) never reaches the local server and fails with a non-retryable `ssrf_refused`;
 * with `allowPrivate: true`, or without a guard (an operator's URL), it works. The catalog adds the
 * guard to team base URLs only.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlmChunk } from '../../src/llm/llm.js';
import { createOpenAiLlm } from '../../src/llm/openai/index.js';
import { credentialLookup } from '../../src/providers/credential-lookup.js';
import { withConnectionPolicy } from '../../src/providers/provider-catalog.js';
import { closeGuardedAgents } from '../../src/shared/network-guard.js';
import type { ConnectionGuard, ProviderCredentials } from '../../src/shared/provider-credentials.js';
import { ProviderError } from '../../src/shared/provider-error.js';
import { createDeepgramStt } from '../../src/stt/deepgram/index.js';
import { createOpenAiStt } from '../../src/stt/openai/index.js';
import type { SttEvent, SttStream } from '../../src/stt/stt.js';
import { type DeepgramSttFake, startDeepgramSttFake } from '../../src/testing/provider-fakes/deepgram-stt.js';
import { type PcmTtsFake, startElevenLabsFake } from '../../src/testing/provider-fakes/elevenlabs.js';
import { type LlmFake, startOpenAiFake } from '../../src/testing/provider-fakes/openai.js';
import { type OpenAiSttFake, startOpenAiSttFake } from '../../src/testing/provider-fakes/openai-stt.js';
import { createElevenLabsTts } from '../../src/tts/elevenlabs/index.js';

const never = new AbortController().signal;
const REFUSE: ConnectionGuard = { allowPrivate: false };
const ALLOW: ConnectionGuard = { allowPrivate: true };
/** The same local server by literal IP and by a name that resolves to it. */
const HOSTS = ['127.0.0.1', 'localhost'] as const;

const onHost = (url: string, host: string) => url.replace('127.0.0.1', host);

function tone(rate: number, ms: number): Int16Array {
  const out = new Int16Array((rate * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(3000 * Math.sin((2 * Math.PI * 220 * i) / rate));
  return out;
}

function pushFrames(stream: SttStream, audio: Int16Array, rate: number): void {
  const n = rate / 50;
  for (let i = 0; i < audio.length; i += n) stream.push(audio.subarray(i, i + n));
}

async function sttEvents(stream: SttStream): Promise<SttEvent[]> {
  const events: SttEvent[] = [];
  for await (const e of stream) {
    events.push(e);
    if (e.type === 'final' || e.type === 'error') break;
  }
  await stream.close();
  return events;
}

async function caught(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

function expectRefused(error: unknown, type: ProviderError['type'], provider: string, host: string): void {
  expect(error).toBeInstanceOf(ProviderError);
  expect(error).toMatchObject({ type, code: 'ssrf_refused', provider, retryable: false });
  expect((error as Error).message).toContain(`refused to connect to ${host}`);
}

const llmRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello' }] };

async function chatText(creds: ProviderCredentials): Promise<string> {
  const llm = createOpenAiLlm({ ...creds, timeoutMs: 5000 });
  let text = '';
  for await (const c of llm.chat(llmRequest, never) as AsyncIterable<LlmChunk>) {
    if (c.type === 'text') text += c.text;
  }
  return text;
}

async function speak(creds: ProviderCredentials): Promise<number> {
  const tts = createElevenLabsTts({ ...creds, timeoutMs: 5000 });
  let samples = 0;
  for await (const chunk of tts.synthesize('Hello there.', { sampleRate: 16000 }, never)) {
    samples += chunk.length;
  }
  return samples;
}

/** A TCP listener that only counts connections: a refused destination must see none. */
let tripwire: Server;
let tripwireConnections = 0;
let tripwirePort = 0;

let llmFake: LlmFake;
let ttsFake: PcmTtsFake;
let dgFake: DeepgramSttFake;
let oaiSttFake: OpenAiSttFake;

beforeAll(async () => {
  tripwire = createServer((socket) => {
    tripwireConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => tripwire.listen(0, '127.0.0.1', resolve));
  tripwirePort = (tripwire.address() as { port: number }).port;
  [llmFake, ttsFake, dgFake, oaiSttFake] = await Promise.all([
    startOpenAiFake(),
    startElevenLabsFake(),
    startDeepgramSttFake(),
    startOpenAiSttFake(),
  ]);
});

afterAll(async () => {
  await Promise.all([llmFake?.close(), ttsFake?.close(), dgFake?.close(), oaiSttFake?.close()]);
  await new Promise<void>((resolve) => tripwire.close(() => resolve()));
  await closeGuardedAgents();
});

describe('AI SDK LLM (openai) with a team base URL', () => {
  for (const host of HOSTS) {
    it(`refuses ${host} without connecting when private addresses are not allowed`, async () => {
      const before = llmFake.requests.length;
      const error = await caught(() =>
        chatText({ apiKey: llmFake.apiKey, baseUrl: onHost(llmFake.baseUrl, host), guard: REFUSE }),
      );
      expectRefused(error, 'llm_error', 'openai', host);
      expect(llmFake.requests.length).toBe(before);
    });

    it(`reaches ${host} when private addresses are allowed`, async () => {
      const text = await chatText({
        apiKey: llmFake.apiKey,
        baseUrl: onHost(llmFake.baseUrl, host),
        guard: ALLOW,
      });
      expect(text.length).toBeGreaterThan(0);
    });
  }

  it('reaches an operator base URL (no guard) on 127.0.0.1', async () => {
    expect((await chatText({ apiKey: llmFake.apiKey, baseUrl: llmFake.baseUrl })).length).toBeGreaterThan(0);
  });
});

describe('undici TTS (elevenlabs) with a team base URL', () => {
  for (const host of HOSTS) {
    it(`refuses ${host} without connecting when private addresses are not allowed`, async () => {
      const before = ttsFake.requestCount();
      const error = await caught(() =>
        speak({ apiKey: ttsFake.apiKey, baseUrl: onHost(ttsFake.url, host), guard: REFUSE }),
      );
      expectRefused(error, 'tts_error', 'elevenlabs', host);
      expect(ttsFake.requestCount()).toBe(before);
    });

    it(`reaches ${host} when private addresses are allowed`, async () => {
      const samples = await speak({
        apiKey: ttsFake.apiKey,
        baseUrl: onHost(ttsFake.url, host),
        guard: ALLOW,
      });
      expect(samples).toBeGreaterThan(0);
    });
  }

  it('reaches an operator base URL (no guard) on 127.0.0.1', async () => {
    expect(await speak({ apiKey: ttsFake.apiKey, baseUrl: ttsFake.url })).toBeGreaterThan(0);
  });
});

describe('ws STT (deepgram) with a team base URL', () => {
  const listen = (creds: ProviderCredentials) => {
    const stt = createDeepgramStt({ ...creds, timeoutMs: 3000 });
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US' }, never);
    pushFrames(stream, tone(16000, 600), 16000);
    stream.flush();
    return sttEvents(stream);
  };

  for (const host of HOSTS) {
    it(`refuses ${host} without connecting when private addresses are not allowed`, async () => {
      const before = dgFake.connections.length;
      const events = await listen({
        apiKey: dgFake.apiKey,
        baseUrl: onHost(dgFake.url, host),
        guard: REFUSE,
      });
      const error = events.find((e) => e.type === 'error');
      expect(events.some((e) => e.type === 'final')).toBe(false);
      expectRefused(error && 'error' in error ? error.error : undefined, 'stt_error', 'deepgram', host);
      expect(dgFake.connections.length).toBe(before);
    });

    it(`reaches ${host} when private addresses are allowed`, async () => {
      const events = await listen({ apiKey: dgFake.apiKey, baseUrl: onHost(dgFake.url, host), guard: ALLOW });
      expect(events.find((e) => e.type === 'final')).toMatchObject({ text: 'Book a table for two.' });
    });
  }

  it('reaches an operator base URL (no guard) on 127.0.0.1', async () => {
    const events = await listen({ apiKey: dgFake.apiKey, baseUrl: dgFake.url });
    expect(events.find((e) => e.type === 'final')).toMatchObject({ text: 'Book a table for two.' });
  });
});

describe('undici fetch STT (openai) with a team base URL', () => {
  const transcribe = (creds: ProviderCredentials) => {
    const stt = createOpenAiStt({ ...creds, timeoutMs: 3000 });
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US' }, never);
    pushFrames(stream, tone(16000, 600), 16000);
    stream.flush();
    return sttEvents(stream);
  };

  for (const host of HOSTS) {
    it(`refuses ${host} without connecting when private addresses are not allowed`, async () => {
      const before = oaiSttFake.received;
      const events = await transcribe({
        apiKey: oaiSttFake.apiKey,
        baseUrl: onHost(oaiSttFake.url, host),
        guard: REFUSE,
      });
      const error = events.find((e) => e.type === 'error');
      expectRefused(error && 'error' in error ? error.error : undefined, 'stt_error', 'openai', host);
      expect(oaiSttFake.received).toBe(before);
    });

    it(`reaches ${host} when private addresses are allowed`, async () => {
      const events = await transcribe({
        apiKey: oaiSttFake.apiKey,
        baseUrl: onHost(oaiSttFake.url, host),
        guard: ALLOW,
      });
      expect(events.find((e) => e.type === 'final')).toMatchObject({ text: 'Book a table for two.' });
    });
  }

  it('reaches an operator base URL (no guard) on 127.0.0.1', async () => {
    const events = await transcribe({ apiKey: oaiSttFake.apiKey, baseUrl: oaiSttFake.url });
    expect(events.find((e) => e.type === 'final')).toMatchObject({ text: 'Book a table for two.' });
  });
});

describe('a refused destination sees no TCP connection at all', () => {
  for (const host of HOSTS) {
    it(`every transport, ${host}`, async () => {
      const base = `http://${host}:${tripwirePort}/v1`;
      const creds = { apiKey: 'k', baseUrl: base, guard: REFUSE };
      expectRefused(await caught(() => chatText(creds)), 'llm_error', 'openai', host);
      expectRefused(
        await caught(() => speak({ ...creds, baseUrl: `http://${host}:${tripwirePort}` })),
        'tts_error',
        'elevenlabs',
        host,
      );
      const dg = createDeepgramStt({ ...creds, timeoutMs: 3000 }).stream(
        { sampleRate: 16000, language: 'en-US' },
        never,
      );
      const dgError = (await sttEvents(dg)).find((e) => e.type === 'error');
      expectRefused(dgError && 'error' in dgError ? dgError.error : undefined, 'stt_error', 'deepgram', host);
      expect(tripwireConnections).toBe(0);
    });
  }

  it('metadata addresses stay refused even when private addresses are allowed', async () => {
    const error = await caught(() =>
      chatText({ apiKey: 'k', baseUrl: 'http://169.254.169.254/v1', guard: ALLOW }),
    );
    expectRefused(error, 'llm_error', 'openai', '169.254.169.254');
  });
});

describe('withConnectionPolicy (the catalog)', () => {
  const env = { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', OPENAI_API_KEY: 'sk-env' };

  it("guards a team's base URL and leaves the operator's trusted", () => {
    const team = new Map<string, ProviderCredentials>([
      ['anthropic', { apiKey: 'sk-team', baseUrl: 'http://proxy.example/v1' }],
      ['deepgram', { apiKey: 'dg-team' }],
    ]);
    const lookup = withConnectionPolicy(credentialLookup(team, env), false);
    expect(lookup('anthropic')).toEqual({
      apiKey: 'sk-team',
      baseUrl: 'http://proxy.example/v1',
      baseUrlFromTeam: true,
      guard: { allowPrivate: false },
    });
    expect(lookup('openai')).toEqual({ apiKey: 'sk-env', baseUrl: 'http://127.0.0.1:11434/v1' });
    expect(lookup('deepgram')).toEqual({ apiKey: 'dg-team' });
    const allowing = withConnectionPolicy(credentialLookup(team, env), true);
    expect(allowing('anthropic').guard).toEqual({ allowPrivate: true });
  });

  it('a team URL that overrides the environment one is guarded', () => {
    const team = new Map<string, ProviderCredentials>([['openai', { baseUrl: 'http://localhost:9/v1' }]]);
    const lookup = withConnectionPolicy(credentialLookup(team, env), false);
    expect(lookup('openai')).toMatchObject({
      baseUrl: 'http://localhost:9/v1',
      guard: { allowPrivate: false },
    });
  });

  it('trusts baseUrlFromTeam when the lookup sets it', () => {
    const marked = (fromTeam: boolean) => () => ({
      baseUrl: env.OPENAI_BASE_URL,
      baseUrlFromTeam: fromTeam,
    });
    expect(withConnectionPolicy(marked(true), false)('openai').guard).toEqual({ allowPrivate: false });
    expect(withConnectionPolicy(marked(false), false)('openai').guard).toBeUndefined();
  });
});
