// What the carrier conformance suite shares: one real server (fake speech and LLM providers
// driven by keywords), an assistant whose events go to a loopback receiver, and the checks every
// case ends with (exactly one terminal status-update and one end-of-call-report, with the phone
// fields of the contract).

import { expect } from 'vitest';
import WebSocket from 'ws';
import type { ChatMessage } from '../../../src/llm/llm.js';
import type { CarrierSimulator, SimulatedMedia } from '../../../src/testing/carriers/simulator.js';
import {
  type FakeProviders,
  type FakeReply,
  fakeProviders,
  toneSecond,
} from '../../../src/testing/fake-providers.js';
import { api, type CallServer, callEvents, startCallServer } from '../../calls/support.js';

export const TRANSFER_TO = '+14155550199';
export const VOICEMAIL_MESSAGE = 'Hi, this is Parley calling back about your booking. Please call us back.';
export const LONG_STORY = Array.from(
  { length: 12 },
  (_, i) => `This is sentence number ${i + 1} of a long story that keeps going for a while.`,
).join(' ');

/** The fake model's replies, by what the caller said (the fake STT is told beforehand). */
function respond(messages: readonly ChatMessage[]): FakeReply {
  // After a tool ran, the model only acknowledges (no second dtmf or transfer).
  if (messages.at(-1)?.role === 'tool') return 'Done.';
  const last = [...messages].reverse().find((m) => m.role === 'user');
  const said = last?.content ?? '';
  if (said.includes('long story')) return LONG_STORY;
  if (said.includes('press keys')) return { toolCalls: [{ name: 'dtmf', arguments: { digits: '123' } }] };
  if (said.includes('transfer me'))
    return { toolCalls: [{ name: 'transferCall', arguments: { destination: TRANSFER_TO } }] };
  if (said.includes('goodbye'))
    return { text: 'Goodbye, have a nice day!', toolCalls: [{ name: 'endCall', arguments: {} }] };
  return `You said: ${said}.`;
}

export interface Conformance {
  cs: CallServer;
  providers: FakeProviders;
  assistantId: string;
  /** With `voicemailDetection` and a `voicemailMessage`. */
  voicemailAssistantId: string;
  /** With `voicemailDetection` and no message. */
  silentVoicemailAssistantId: string;
  close(): Promise<void>;
}

export async function startConformanceServer(): Promise<Conformance> {
  const providers = fakeProviders({
    llm: { firstTokenMs: 30, tokenMs: 3, respond },
    stt: { finalLatencyMs: 40, defaultText: 'hello' },
    tts: { firstChunkMs: 20, chunkGenerationMs: 2, msPerChar: 15 },
  });
  const cs = await startCallServer(providers);
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'phone conformance',
    welcomeMessage: 'Hello, this is Parley.',
    assistantServer: { url: cs.receiver.url },
    tools: [
      { type: 'endCall' },
      { type: 'dtmf' },
      { type: 'transferCall', destinations: [{ number: TRANSFER_TO, message: 'Transferring you now.' }] },
    ],
  });
  if (created.status !== 201) throw new Error(`assistant: ${JSON.stringify(created.json)}`);
  const voicemail = async (fields: Record<string, unknown>): Promise<string> => {
    const res = await api(cs, 'POST', '/v1/assistants', {
      name: 'phone conformance voicemail',
      welcomeMessage: 'Hello, this is Parley.',
      assistantServer: { url: cs.receiver.url },
      ...fields,
    });
    if (res.status !== 201) throw new Error(`voicemail assistant: ${JSON.stringify(res.json)}`);
    return res.json._id;
  };
  return {
    cs,
    providers,
    assistantId: created.json._id,
    voicemailAssistantId: await voicemail({ voicemailDetection: true, voicemailMessage: VOICEMAIL_MESSAGE }),
    silentVoicemailAssistantId: await voicemail({ voicemailDetection: { enabled: true } }),
    close: () => cs.close(),
  };
}

/** Registers a number for the simulator's carrier; returns its id and inbound URL. */
export async function addNumber(c: Conformance, sim: CarrierSimulator, number: string) {
  const res = await api(c.cs, 'POST', '/v1/phone-numbers', {
    number,
    provider: sim.carrier,
    credentials: sim.credentials,
    apiBaseUrl: sim.apiBaseUrl,
    assistantId: c.assistantId,
  });
  if (res.status !== 201) throw new Error(`phone number: ${JSON.stringify(res.json)}`);
  return { id: res.json.id as string, inboundUrl: res.json.carrierSetup.inboundUrl as string };
}

/** Caller speech: a tone the energy VAD hears, then the silence that ends the turn. */
export async function say(c: Conformance, media: SimulatedMedia, text: string): Promise<void> {
  c.providers.fakeStt.willHear(text);
  await media.speak(toneSecond(8000).subarray(0, 4800), 8000);
  await media.silence(900);
}

// biome-ignore lint/suspicious/noExplicitAny: events are read field by field
type Event = any;

export const eventsOf = (c: Conformance, callId: string): Event[] => callEvents(c.cs, callId);

/** The id of the call whose customer is `number` (each case uses its own caller number). */
export async function callIdOf(c: Conformance, customer: string): Promise<string> {
  let id: string | undefined;
  await c.cs.receiver.waitFor(
    () => {
      id = c.cs.receiver.accepted().find((e) => e.message.customer?.number === customer)?.message.call.id;
      return id !== undefined;
    },
    15_000,
    `a call from ${customer}`,
  );
  return id as string;
}

export const callsOf = (c: Conformance, customer: string) =>
  new Set(
    c.cs.receiver
      .accepted()
      .filter((e) => e.message.customer?.number === customer)
      .map((e) => e.message.call.id),
  );

/** Resolves when an assistant message containing `text` reached the receiver. */
export function heardInTranscript(c: Conformance, callId: string, text: string, timeoutMs = 15_000) {
  return c.cs.receiver.waitFor(
    () =>
      eventsOf(c, callId).some(
        (e) =>
          e.type === 'conversation-update' &&
          (e.messages as { role: string; text?: string }[]).some((m) => m.text?.includes(text)),
      ),
    timeoutMs,
    `"${text}" in the conversation of ${callId}`,
  );
}

/**
 * Waits for the end-of-call-report and checks the contract's phone fields and that the call got
 * exactly one terminal status-update and one report. Returns the report.
 */
export async function expectEnded(
  c: Conformance,
  callId: string,
  expected: {
    carrier: string;
    direction: 'inbound' | 'outbound';
    userNumber: string;
    assistantNumber: string;
    status?: 'finished' | 'forwarded';
    phoneCallStatus?: string;
    endedReason?: string;
  },
): Promise<Event> {
  await c.cs.receiver.waitFor(
    () => eventsOf(c, callId).some((e) => e.type === 'end-of-call-report'),
    30_000,
    `end-of-call-report of ${callId}`,
  );
  const events = eventsOf(c, callId);
  const terminal = events.filter(
    (e) => e.type === 'status-update' && ['finished', 'forwarded'].includes(e.call.status),
  );
  const reports = events.filter((e) => e.type === 'end-of-call-report');
  expect(terminal, 'terminal status-updates').toHaveLength(1);
  expect(reports, 'end-of-call-reports').toHaveLength(1);
  const report = reports[0];
  expect(report.call).toMatchObject({
    callType: 'phone',
    direction: expected.direction,
    userNumber: expected.userNumber,
    assistantNumber: expected.assistantNumber,
    ...(expected.status ? { status: expected.status } : {}),
    ...(expected.phoneCallStatus ? { phoneCallStatus: expected.phoneCallStatus } : {}),
  });
  expect(report.call.id).toMatch(/^PC-[0-9a-f-]{36}$/);
  expect(report.phone).toEqual({ provider: { name: expected.carrier } });
  expect(report.customer).toMatchObject({ number: expected.userNumber });
  if (expected.endedReason) expect(report.endedReason).toBe(expected.endedReason);
  return report;
}

/** The media URL Parley gave the carrier for `callId` (its markup, or a REST answer for Telnyx). */
export function mediaUrlIn(sim: CarrierSimulator, answerBody: string, callId: string): string | undefined {
  const texts = [answerBody, ...sim.restLog.map((r) => JSON.stringify(r.body) ?? '').reverse()];
  for (const text of texts) {
    const found = text.match(/wss?:\/\/[^"'<>\s\\]+\/telephony\/[a-z]+\/media\/[^"'<>\s\\]+/g);
    const url = found?.find((u) => u.includes(`/media/${callId}/`));
    if (url) return url.replace(/&amp;/g, '&');
  }
  return undefined;
}

/** Opens a media socket to `url` as an outsider would (no carrier signature). */
export function connectRaw(url: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^wss:/, 'ws:'));
    ws.on('error', () => {});
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}
