// What the SIP tests share: a real Parley server with its SIP endpoint on a free UDP port of
// 127.0.0.1 (fake speech and LLM providers), an assistant whose events go to a loopback
// receiver, a phone number with provider `sip`, free ports, and the caller's audio as raw µ-law.
import { createSocket } from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulawEncode } from '../../src/audio/g711.js';
import { type FakeProviders, fakeProviders, toneSecond } from '../../src/testing/fake-providers.js';
import type { SipEndpointHandle } from '../../src/transports/sip/sip-entry-point.js';
import { api, type CallServer, startCallServer } from '../calls/support.js';
import { type Conformance, eventsOf } from '../phone/support/conformance.js';

export const SIP_NUMBER = '+14155550300';
/** A number without an assistant: its assistant-request is answered late (the caller hears ringing). */
export const SIP_SLOW_NUMBER = '+14155550301';
export const SLOW_ASSISTANT_REQUEST_MS = 1500;

/** A UDP port free right now on 127.0.0.1 (even, so RTP can use it). */
export async function freeUdpPort(): Promise<number> {
  for (;;) {
    const socket = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (port % 2 === 0 && port < 65000) return port;
  }
}

export interface SipTestServer {
  cs: CallServer;
  providers: FakeProviders;
  assistantId: string;
  /** The same server for the carrier suite's checks (which read only `cs`). */
  c: Conformance;
  sip: SipEndpointHandle;
  sipPort: number;
  numberId: string;
}

export async function startSipServer(): Promise<SipTestServer> {
  const providers = fakeProviders({
    llm: {
      firstTokenMs: 30,
      tokenMs: 3,
      respond: (messages) =>
        `You said: ${[...messages].reverse().find((m) => m.role === 'user')?.content ?? ''}.`,
    },
    stt: { finalLatencyMs: 40, defaultText: 'hello' },
    tts: { firstChunkMs: 20, chunkGenerationMs: 2, msPerChar: 15 },
  });
  const rtpBase = 20_000 + 2 * Math.floor(Math.random() * 10_000);
  const cs: CallServer = await startCallServer(providers, {
    env: {
      PARLEY_SIP_PORT: '0',
      PARLEY_SIP_PUBLIC_IP: '127.0.0.1',
      PARLEY_RTP_PORTS: `${rtpBase}-${rtpBase + 200}`,
      HOST: '127.0.0.1',
    },
  });
  const sip = (cs.server.parley.app as unknown as { sipEndpoint?: SipEndpointHandle }).sipEndpoint;
  if (!sip) throw new Error('the SIP endpoint did not start (PARLEY_SIP_PORT)');
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'sip',
    welcomeMessage: 'Hello, this is Parley.',
    assistantServer: { url: cs.receiver.url },
  });
  if (created.status !== 201) throw new Error(`assistant: ${JSON.stringify(created.json)}`);
  const number = await api(cs, 'POST', '/v1/phone-numbers', {
    number: SIP_NUMBER,
    provider: 'sip',
    credentials: {},
    assistantId: created.json._id,
  });
  if (number.status !== 201) throw new Error(`phone number: ${JSON.stringify(number.json)}`);
  const slow = await api(cs, 'POST', '/v1/phone-numbers', {
    number: SIP_SLOW_NUMBER,
    provider: 'sip',
    credentials: {},
    server: { url: cs.receiver.url },
  });
  if (slow.status !== 201) throw new Error(`phone number: ${JSON.stringify(slow.json)}`);
  const assistantId: string = created.json._id;
  cs.receiver.respond = (event) =>
    event.message?.type === 'assistant-request'
      ? { status: 200, body: JSON.stringify({ assistantId }), delayMs: SLOW_ASSISTANT_REQUEST_MS }
      : undefined;
  const server = {
    cs,
    providers,
    assistantId: created.json._id,
    sip,
    sipPort: sip.endpoint.localPort,
    numberId: number.json.id,
    close: () => cs.close(),
  };
  return { ...server, c: server as unknown as Conformance };
}

/** Writes `ms` of speech-like tone then `silenceMs` of silence as raw µ-law; returns the path. */
export async function callerAudioFile(ms: number, silenceMs: number): Promise<string> {
  const pcm = new Int16Array(((ms + silenceMs) * 8000) / 1000);
  pcm.set(toneSecond(8000).subarray(0, (ms * 8000) / 1000));
  const path = join(tmpdir(), `parley-caller-${process.pid}-${Date.now()}.ulaw`);
  await writeFile(path, mulawEncode(pcm));
  return path;
}

/** The status-update `phoneCallStatus` values of a call, in order. */
export const phoneStatuses = (s: SipTestServer, callId: string): string[] =>
  eventsOf(s.c, callId)
    .filter((e) => e.type === 'status-update')
    .map((e) => e.call.phoneCallStatus as string);
