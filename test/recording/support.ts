import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { decodeWav } from '../../src/audio/wav.js';
import type { RecordingService } from '../../src/recording/recording-service.js';
import { FakeLlm, type FakeProviders, fakeProviders, frames } from '../../src/testing/fake-providers.js';
import { Client } from '../calls/support.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** A real Parley server on 127.0.0.1 with fake providers, configured by `env`. */
export interface RecordingServer {
  server: TestServer;
  providers: FakeProviders;
  recordings: RecordingService;
  key: string;
  baseUrl: string;
  api(method: string, path: string, body?: unknown, key?: string): Promise<Response>;
  close(): Promise<void>;
}

export async function startRecordingServer(env: Record<string, string> = {}): Promise<RecordingServer> {
  let baseUrl = '';
  const providers = fakeProviders({
    llm: new FakeLlm({ firstTokenMs: 40, tokenMs: 5 }),
    stt: { finalLatencyMs: 40 },
    tts: { firstChunkMs: 20, chunkGenerationMs: 2, msPerChar: 20 },
  });
  const server = await startTestServer(env, {}, { providers, calls: { publicUrl: () => baseUrl } });
  const app = server.parley.app;
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const key = await server.createKey('recordings');
  const recordings = server.parley.calls.recordings;
  if (!recordings) throw new Error('the server has no recording service');
  const rs: RecordingServer = {
    server,
    providers,
    recordings,
    key,
    baseUrl,
    api: (method, path, body, withKey = key) =>
      fetch(baseUrl + path, {
        method,
        redirect: 'manual',
        headers: {
          authorization: `Bearer ${withKey}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }),
    close: () => server.close(),
  };
  return rs;
}

/**
 * One web call with audio both ways: the welcome plays, the caller speaks 0.8 s, the assistant
 * answers, the caller hangs up. Resolves with the finished call once its recording is stored.
 */
export async function recordedCall(
  rs: RecordingServer,
  assistant: Record<string, unknown> = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary call fields
): Promise<Record<string, any>> {
  const created = await rs.api('POST', '/v1/calls', {
    assistant: { name: 'recorded', welcomeMessage: 'Hi there!', ...assistant },
  });
  expect(created.status).toBe(201);
  const call = (await created.json()) as { id: string; join: { url: string } };
  const client = await Client.connect(call.join.url);
  client.send({ type: 'hello', version: 1, sampleRate: 16000, frameMs: 20 });
  await client.waitFor(() => client.of('assistant-text').some((m) => m.final && m.messageId === 'welcome-1'));
  rs.providers.fakeStt.willHear('book me a table');
  for (const frame of [...frames('speech', 800, 16000), ...frames('silence', 700, 16000)]) {
    client.sendRaw(Buffer.from(frame.buffer), true);
    await new Promise((r) => setTimeout(r, 20)); // a caller speaks in real time
  }
  await client.waitFor(() =>
    client.of('assistant-text').some((m) => m.final && m.text === 'You said: book me a table.'),
  );
  await new Promise((r) => setTimeout(r, 300));
  client.ws.close(1000, 'bye');
  await client.waitClosed();
  const deadline = Date.now() + 15_000;
  while (rs.server.parley.calls.session(call.id) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await rs.recordings.idle();
  const stored = await rs.api('GET', `/v1/calls/${call.id}`);
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary call fields
  const finished = (await stored.json()) as Record<string, any>;
  expect(finished.status).toBe('finished');
  return finished;
}

/** Duration (ms) and peak levels of a WAV file. */
export function inspectWav(bytes: Uint8Array) {
  const wav = decodeWav(bytes);
  const frames = wav.samples.length / wav.channels;
  const peak = (channel: number) => {
    let max = 0;
    for (let i = channel; i < wav.samples.length; i += wav.channels) {
      max = Math.max(max, Math.abs(wav.samples[i] ?? 0));
    }
    return max;
  };
  return {
    sampleRate: wav.sampleRate,
    channels: wav.channels,
    durationMs: (frames * 1000) / wav.sampleRate,
    peaks: Array.from({ length: wav.channels }, (_, c) => peak(c)),
    wav,
  };
}
