import { describe, expect, it } from 'vitest';
import { SpeechConfigSchema } from '../../src/contract/assistant-schema.js';
import { TRANSFER_FAILED_MESSAGE } from '../../src/engine/call-control.js';
import { DTMF_COMMIT_AFTER_MS } from '../../src/engine/dtmf-input.js';
import { resolveSpeechConfig, SPEECH_DEFAULTS } from '../../src/engine/speech-config.js';
import { transferDestination } from '../../src/engine/tools.js';
import type { ChatMessage } from '../../src/llm/llm.js';
import { FakeLlm, type FakeReply, fakeProviders } from '../../src/testing/fake-providers.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { type Harness, schemaErrors, startSession } from './helpers.js';

/** Exactly one terminal status-update then exactly one end-of-call-report, last; all schema-valid. */
function expectOneEnding(h: Harness) {
  const events = h.sink.forCall(h.session.id);
  const terminal = events.filter(
    (e) => e.type === 'status-update' && (e.call.status === 'finished' || e.call.status === 'forwarded'),
  );
  expect(terminal).toHaveLength(1);
  expect(h.types().filter((t) => t === 'end-of-call-report')).toHaveLength(1);
  expect(h.types().slice(-2)).toEqual(['status-update', 'end-of-call-report']);
  expect(schemaErrors(events)).toEqual([]);
}

function report(h: Harness) {
  const event = h.sink.forCall(h.session.id).find((e) => e.type === 'end-of-call-report');
  return event as { endedReason: string; call: { endedReason?: string } } | undefined;
}

const lastOf = (messages: readonly ChatMessage[], role: ChatMessage['role']) =>
  [...messages].reverse().find((m) => m.role === role);

function call(
  clock: ManualClock,
  respond: (messages: readonly ChatMessage[]) => FakeReply,
  assistant: Record<string, unknown>,
  audio = false,
) {
  const llm = new FakeLlm({ clock, respond });
  const h = startSession({
    clock,
    providers: fakeProviders({ clock, llm }),
    assistant: { idleTimeoutSeconds: 600, ...assistant },
    ackDelayMs: 100,
  });
  h.transport.providerName = 'twilio';
  h.transport.hello(audio ? {} : { audioOutput: false });
  return { h, llm };
}

const transferTool = {
  tools: [
    { type: 'transferCall', destinations: [{ number: '+15550100', message: 'Transferring you now.' }] },
  ],
};

describe('transfers through the transport', () => {
  it('plays the message, then transfers; forwarded + report; the media stop is not a hang-up', async () => {
    const clock = new ManualClock();
    const { h } = call(
      clock,
      (m) =>
        lastOf(m, 'user') && !lastOf(m, 'tool')
          ? { toolCalls: [{ name: 'transferCall', arguments: { destination: '+15550100' } }] }
          : 'unexpected',
      transferTool,
      true,
    );
    h.transport.capabilities = { transfer: true, dtmf: false };
    await clock.until(() => h.session.messages.length === 1);
    h.transport.userText('a human please');
    const [done] = await Promise.all([h.session.done, clock.until(() => h.session.phase === 'ended')]);
    await clock.until(() => report(h) !== undefined);
    expect(done).toMatchObject({
      status: 'forwarded',
      phoneCallStatus: 'forwarded',
      phoneCallStatusReason: 'Forwarded to +15550100',
      callEndTriggerBy: 'bot',
      endedReason: 'assistant-forwarded-call',
    });
    expect(h.transport.of('transfer')).toEqual([
      { type: 'transfer', to: { type: 'number', number: '+15550100' } },
    ]);
    // The message played in full (its final text went out) before the transfer was asked.
    const log = h.transport.log;
    const said = log.findIndex(
      (e) => e.type === 'assistant-text' && e.final && e.text === 'Transferring you now.',
    );
    expect(said).toBeGreaterThan(-1);
    expect(said).toBeLessThan(log.findIndex((e) => e.type === 'transfer'));
    // The line was never hung up: the only close is the media ending as transferred.
    expect(h.transport.of('closed')).toEqual([{ type: 'closed', reason: 'transferred' }]);
    expect(h.transport.hangUpRequests).toEqual([]);
    expect(report(h)?.endedReason).toBe('assistant-forwarded-call');
    expectOneEnding(h);
  });

  it('a failed transfer: error event, the caller is told, the model learns it, one terminal status later', async () => {
    const clock = new ManualClock();
    const { h, llm } = call(
      clock,
      (m) => {
        const last = m.at(-1);
        if (last?.role === 'user' && last.content === 'a human please')
          return { toolCalls: [{ name: 'transferCall', arguments: { destination: '+15550100' } }] };
        return 'How else can I help?';
      },
      transferTool,
    );
    h.transport.capabilities = { transfer: true, dtmf: false };
    h.transport.transferResult = { ok: false, error: 'busy' };
    await clock.until(() => h.session.messages.length === 1);
    h.transport.userText('a human please');
    await clock.until(() => h.types().includes('error'));
    await clock.until(() => h.session.messages.some((m) => m.text === TRANSFER_FAILED_MESSAGE));
    const error = h.sink.forCall(h.session.id).find((e) => e.type === 'error') as { error: unknown };
    expect(error.error).toEqual({
      type: 'tool_error',
      code: 'transfer_failed',
      message: 'transfer to +15550100 failed: busy',
      provider: 'twilio',
      retryable: false,
    });
    expect(h.session.phase).toBe('live');
    expect(h.session.call.status).toBe('ongoing');
    // The conversation resumes; the model was told why the transfer failed.
    h.transport.userText('ok then');
    await clock.until(() => h.session.messages.at(-1)?.text === 'How else can I help?');
    const tool = llm.requests.at(-1)?.messages.find((m) => m.role === 'tool');
    expect(tool?.content).toContain('busy');
    h.transport.end();
    const done = await h.session.done;
    expect(done).toMatchObject({ phoneCallStatus: 'completed', endedReason: 'customer-ended-call' });
    expectOneEnding(h);
  });

  it('a web call (no transfer capability) still forwards by ending the call', async () => {
    const clock = new ManualClock();
    const { h } = call(
      clock,
      () => ({ toolCalls: [{ name: 'transferCall', arguments: { destination: '+15550100' } }] }),
      transferTool,
    );
    await clock.until(() => h.session.messages.length === 1);
    h.transport.userText('a human please');
    await clock.until(() => h.session.phase === 'ended');
    const done = await h.session.done;
    expect(done.status).toBe('forwarded');
    expect(h.transport.of('transfer')).toEqual([]);
    expect(h.transport.closed?.cause).toBe('completed');
  });

  it('reads E.164 numbers and sip: URIs as destinations, nothing else', () => {
    expect(transferDestination('+15550100')).toEqual({ type: 'number', number: '+15550100' });
    expect(transferDestination('sip:desk@example.com')).toEqual({
      type: 'sip',
      sipUri: 'sip:desk@example.com',
    });
    expect(transferDestination('555-0100')).toBeUndefined();
  });
});

describe('DTMF', () => {
  it('keypad digits become a user turn (until # or a pause), in the transcript and to the model', async () => {
    const clock = new ManualClock();
    const { h, llm } = call(clock, (m) => `Got ${lastOf(m, 'user')?.content}.`, {});
    await clock.until(() => h.session.messages.length === 1);
    h.transport.dtmf('12');
    h.transport.dtmf('3#');
    await clock.until(() => h.session.messages.length === 3);
    expect(h.session.messages[1]).toMatchObject({ role: 'user', text: '123' });
    expect(h.transport.of('transcript')).toContainEqual({
      type: 'transcript',
      final: true,
      text: '123',
      messageId: 'user-1',
    });
    h.transport.dtmf('45');
    await clock.advance(DTMF_COMMIT_AFTER_MS - 20);
    expect(h.session.messages).toHaveLength(3);
    await clock.advance(20);
    expect(h.session.messages[3]).toMatchObject({ role: 'user', text: '45' });
    await clock.until(() => h.session.messages.length === 5);
    expect(lastOf(llm.requests.at(-1)?.messages ?? [], 'user')?.content).toBe('45');
    h.transport.end();
    await h.session.done;
  });

  it('the dtmf tool sends digits where the medium can, and says it cannot elsewhere', async () => {
    for (const dtmf of [true, false]) {
      const clock = new ManualClock();
      const { h, llm } = call(
        clock,
        (m) =>
          m.at(-1)?.role === 'tool'
            ? 'Done.'
            : { toolCalls: [{ name: 'dtmf', arguments: { digits: '1#' } }] },
        { tools: [{ type: 'dtmf' }] },
      );
      h.transport.capabilities = { transfer: false, dtmf };
      await clock.until(() => h.session.messages.length === 1);
      h.transport.userText('press one');
      await clock.until(() => h.session.messages.at(-1)?.text === 'Done.');
      const tool = llm.requests.at(-1)?.messages.find((m) => m.role === 'tool');
      if (dtmf) {
        expect(h.transport.of('dtmf')).toEqual([{ type: 'dtmf', digits: '1#' }]);
        expect(tool?.content).toBe('sent 1#');
      } else {
        expect(h.transport.of('dtmf')).toEqual([]);
        expect(tool?.content).toContain('DTMF is not available on this call');
      }
      expect(llm.requests[0]?.tools?.map((t) => t.name)).toEqual(['dtmf']);
      h.transport.end();
      await h.session.done;
    }
  });
});

describe('phone lifecycle and one end', () => {
  it('ringing, then busy: one ringing status-update, one terminal `busy`, one report', async () => {
    const clock = new ManualClock();
    const h = startSession({ clock, providers: fakeProviders({ clock }) });
    h.session.ringing();
    h.session.ringing();
    expect(h.session.call).toMatchObject({ status: 'queued', phoneCallStatus: 'ringing' });
    const ends = [
      h.session.end({ trigger: 'system', reason: 'Line busy', notConnected: 'busy' }),
      h.session.end({ trigger: 'system', reason: 'No answer', notConnected: 'no-answer' }),
    ];
    h.transport.disconnect();
    const [first, second] = await Promise.all(ends);
    expect(second).toBe(first);
    expect(first).toMatchObject({
      status: 'finished',
      phoneCallStatus: 'busy',
      phoneCallStatusReason: 'Line busy',
      endedReason: 'customer-busy',
    });
    h.session.ringing();
    expect(h.types()).toEqual(['status-update', 'status-update', 'status-update', 'end-of-call-report']);
    const statuses = h.sink.forCall(h.session.id).map((e) => e.call.phoneCallStatus);
    expect(statuses.slice(0, 3)).toEqual(['queued', 'ringing', 'busy']);
    expect(report(h)?.endedReason).toBe('customer-busy');
    expectOneEnding(h);
  });

  it('hangUp, the media closing and end at once: one end, the first one', async () => {
    const clock = new ManualClock();
    const { h } = call(clock, () => 'Hi.', { endCallMessage: 'Bye now.' });
    await clock.until(() => h.session.messages.length === 1);
    const first = h.session.end({ trigger: 'bot', reason: 'Assistant ended the call', say: 'Bye now.' });
    h.transport.disconnect();
    h.transport.end();
    const third = h.session.end({ trigger: 'system', reason: 'Max call duration reached' });
    await clock.until(() => h.session.phase === 'ended');
    const [a, b] = await Promise.all([first, third]);
    expect(b).toBe(a);
    expect(a).toMatchObject({ callEndTriggerBy: 'bot', endedReason: 'assistant-ended-call' });
    expect(h.transport.of('closed')).toHaveLength(1);
    expectOneEnding(h);
  });
});

describe('speech defaults', () => {
  it('are the schema defaults, applied once', () => {
    const stt = SpeechConfigSchema.properties.stt.properties;
    const tts = SpeechConfigSchema.properties.tts.properties;
    expect(SPEECH_DEFAULTS).toEqual({
      sttProvider: stt.provider.default,
      language: stt.language.default,
      endpointingMs: stt.endpointingMs.default,
      ttsProvider: tts.provider.default,
    });
    expect(resolveSpeechConfig({ config: {} })).toEqual({
      stt: { provider: 'pocketsphinx', language: 'en-US', endpointingMs: 500 },
      tts: { provider: 'flite' },
    });
  });
});
