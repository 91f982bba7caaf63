import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/shared/provider-error.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { RecordingSink } from '../../src/testing/recording-sink.js';
import { type Harness, schemaErrors, speak, startSession } from './helpers.js';

/** Exactly one terminal status-update then exactly one end-of-call-report, last. */
function expectOneEnding(h: Harness, callId: string) {
  const types = h.sink.types(callId);
  const statuses = h.sink.forCall(callId).filter((e) => e.type === 'status-update');
  expect(statuses.filter((e) => e.call.status === 'finished' || e.call.status === 'forwarded')).toHaveLength(
    1,
  );
  expect(types.filter((t) => t === 'end-of-call-report')).toHaveLength(1);
  expect(types.slice(-2)).toEqual(['status-update', 'end-of-call-report']);
  expect(schemaErrors(h.sink.forCall(callId))).toEqual([]);
}

function textCall(
  clock: ManualClock,
  llm: FakeLlm | undefined,
  assistant: Record<string, unknown> = {},
  sink?: RecordingSink,
) {
  const providers = fakeProviders({ clock, ...(llm ? { llm } : {}) });
  const h = startSession({ clock, providers, assistant, ...(sink ? { sink } : {}) });
  h.transport.hello({ audioOutput: false });
  return h;
}

describe('end conditions', () => {
  it('an end-call phrase said by the bot: endCallMessage, then hang-up by bot', async () => {
    const clock = new ManualClock();
    const h = textCall(clock, new FakeLlm({ clock, respond: () => 'All done here. Goodbye!' }), {
      endCallPhrases: ['goodbye'],
      endCallMessage: 'Have a nice day.',
    });
    await clock.until(() => h.session.messages.length === 1);
    h.transport.userText('that is all');
    const call = await (async () => {
      await clock.until(() => h.transport.closed !== undefined);
      return h.session.done;
    })();
    expect(call.callEndTriggerBy).toBe('bot');
    expect(h.session.messages.map((m) => m.text).slice(-2)).toEqual([
      'All done here. Goodbye!',
      'Have a nice day.',
    ]);
    expectOneEnding(h, call.id);
  });

  it('maximum duration: system', async () => {
    const clock = new ManualClock();
    const h = textCall(clock, undefined, { maxDurationSeconds: 10, idleTimeoutSeconds: 600 });
    await clock.advance(10_000);
    const call = await h.session.done;
    expect(call).toMatchObject({
      callEndTriggerBy: 'system',
      phoneCallStatusReason: 'Max call duration reached',
    });
    expect(call.assistantCallDuration).toBe(10_000);
    expectOneEnding(h, call.id);
  });

  it('idle timeout: one reprompt, then the goodbye and hang-up (system)', async () => {
    const clock = new ManualClock();
    const h = textCall(clock, undefined, {
      idleTimeoutSeconds: 3,
      idleMessage: 'Are you still there?',
      endCallMessage: 'Goodbye.',
    });
    await clock.until(() => h.transport.closed !== undefined, 20_000);
    const call = await h.session.done;
    expect(call.callEndTriggerBy).toBe('system');
    expect(call.phoneCallStatusReason).toBe('Customer did not respond');
    expect(h.session.messages.map((m) => m.text)).toEqual([
      'Hello! How can I help you today?',
      'Are you still there?',
      'Goodbye.',
    ]);
    expect(clock.now() - Date.parse(call.startAt)).toBeGreaterThanOrEqual(6000);
    expectOneEnding(h, call.id);
  });

  it('a client disconnect: user; a disconnect before hello: never connected', async () => {
    const clock = new ManualClock();
    const h = textCall(clock, undefined);
    await clock.advance(500);
    h.transport.disconnect();
    const call = await h.session.done;
    expect(call).toMatchObject({
      callEndTriggerBy: 'user',
      phoneCallStatus: 'completed',
      phoneCallStatusReason: 'Customer hung up',
    });
    expectOneEnding(h, call.id);

    const providers = fakeProviders({ clock });
    const early = startSession({ clock, providers });
    early.transport.disconnect();
    const never = await early.session.done;
    expect(never).toMatchObject({
      status: 'finished',
      phoneCallStatus: 'canceled',
      callEndTriggerBy: 'user',
    });
    expect(early.types()).toEqual(['status-update', 'status-update', 'end-of-call-report']);
  });

  it('hang when no reply started 5 s after the user finished; error events on provider errors', async () => {
    const clock = new ManualClock();
    let n = 0;
    const llm = new FakeLlm({
      clock,
      respond: () =>
        ++n === 1
          ? { text: 'Finally.', firstTokenMs: 6000 }
          : {
              error: new ProviderError({
                type: 'llm_error',
                code: 'rate_limited',
                message: 'too many requests',
                provider: 'fake-llm',
                retryable: true,
              }),
            },
    });
    const h = textCall(clock, llm, { idleTimeoutSeconds: 600 });
    await clock.until(() => h.session.messages.length === 1);
    h.transport.userText('hello?');
    await clock.until(() => h.session.messages.length === 3);
    h.transport.userText('and now?');
    await clock.until(() => h.types().includes('error'));
    h.transport.end();
    const call = await h.session.done;
    const types = h.types();
    expect(types.indexOf('hang')).toBeGreaterThan(types.indexOf('conversation-update'));
    expect(types.filter((t) => t === 'hang')).toHaveLength(1);
    const error = h.sink.forCall(call.id).find((e) => e.type === 'error') as { error: unknown } | undefined;
    expect(error?.error).toEqual({
      type: 'llm_error',
      code: 'rate_limited',
      message: 'too many requests',
      provider: 'fake-llm',
      retryable: true,
    });
    expectOneEnding(h, call.id);
  });

  it('tools: a function tool goes out as tool-calls and its result back to the model; endCall ends (bot)', async () => {
    const clock = new ManualClock();
    const sink = new RecordingSink(
      (call) => ({ ok: true, result: { confirmation: `C-${call.function.arguments.day}` } }),
      () => clock.now(),
    );
    const llm = new FakeLlm({
      clock,
      respond: (messages) => {
        const last = messages.at(-1);
        if (last?.role === 'user')
          return { text: 'Let me check.', toolCalls: [{ name: 'book', arguments: { day: 'monday' } }] };
        if (last?.role === 'tool')
          return {
            text: `Booked, ${JSON.parse(last.content).confirmation}. Bye now.`,
            toolCalls: [{ name: 'endCall', arguments: {} }],
          };
        return 'Hmm.';
      },
    });
    const h = textCall(
      clock,
      llm,
      {
        tools: [
          {
            type: 'function',
            name: 'book',
            parameters: { type: 'object' },
            messages: { requestStart: 'One moment.' },
          },
          { type: 'endCall' },
        ],
      },
      sink,
    );
    await clock.until(() => h.session.messages.length === 1);
    h.transport.userText('book monday');
    await clock.until(() => h.transport.closed !== undefined);
    const call = await h.session.done;
    expect(call.callEndTriggerBy).toBe('bot');
    expect(call.phoneCallStatusReason).toBe('Assistant ended the call');
    expect(h.session.messages.map((m) => m.text)).toEqual([
      'Hello! How can I help you today?',
      'book monday',
      'Let me check.',
      'One moment.',
      'Booked, C-monday. Bye now.',
    ]);
    const types = h.types();
    expect(types.indexOf('tool-calls')).toBeGreaterThan(types.indexOf('conversation-update'));
    const toolCalls = h.sink.forCall(call.id).find((e) => e.type === 'tool-calls') as {
      toolCallList: unknown[];
    };
    expect(toolCalls.toolCallList).toEqual([
      { id: expect.any(String), type: 'function', function: { name: 'book', arguments: { day: 'monday' } } },
    ]);
    expect(llm.requests[0]?.tools?.map((t) => t.name)).toEqual(['book', 'endCall']);
    expectOneEnding(h, call.id);
  });

  it('transferCall on a web call: status forwarded with the destination', async () => {
    const clock = new ManualClock();
    const llm = new FakeLlm({
      clock,
      respond: () => ({ toolCalls: [{ name: 'transferCall', arguments: { destination: '+15550100' } }] }),
    });
    const h = textCall(clock, llm, {
      tools: [
        { type: 'transferCall', destinations: [{ number: '+15550100', message: 'Transferring you now.' }] },
      ],
    });
    await clock.until(() => h.session.messages.length === 1);
    h.transport.userText('a human please');
    await clock.until(() => h.transport.closed !== undefined);
    const call = await h.session.done;
    expect(call).toMatchObject({
      status: 'forwarded',
      phoneCallStatus: 'forwarded',
      phoneCallStatusReason: 'Forwarded to +15550100',
      forwardedTo: '+15550100',
      callEndTriggerBy: 'bot',
    });
    expect(h.session.messages.at(-1)?.text).toBe('Transferring you now.');
    expectOneEnding(h, call.id);
  });
});

describe('provider failures and barge-in off', () => {
  it('an STT failure: error event, then the call ends with ended-with-error', async () => {
    const clock = new ManualClock();
    const providers = fakeProviders({
      clock,
      stt: {
        fail: new ProviderError({
          type: 'stt_error',
          code: 'decoder_exited',
          message: 'decoder exited',
          provider: 'fake-stt',
          retryable: false,
        }),
      },
    });
    const h = startSession({ clock, providers });
    h.transport.hello();
    await clock.until(() => h.session.messages.length === 1);
    await speak({ transport: h.transport, clock }, 100, 100);
    await clock.until(() => h.transport.closed !== undefined);
    const call = await h.session.done;
    expect(call).toMatchObject({
      phoneCallStatus: 'ended-with-error',
      phoneCallStatusReason: 'STT connection failed',
      callEndTriggerBy: 'system',
    });
    const error = h.sink.forCall(call.id).find((e) => e.type === 'error') as
      | { error: { type: string } }
      | undefined;
    expect(error?.error.type).toBe('stt_error');
    expectOneEnding(h, call.id);
  });

  it('with bargeInEnabled false the caller does not cut the reply off; the next reply follows it', async () => {
    const clock = new ManualClock();
    let n = 0;
    const llm = new FakeLlm({
      clock,
      respond: () =>
        ++n === 1 ? 'This is a fairly long answer that keeps going for several seconds at least.' : 'Second.',
    });
    const providers = fakeProviders({ clock, llm });
    const h = startSession({ clock, providers, assistant: { bargeInEnabled: false } });
    h.transport.hello();
    await clock.until(() => h.session.messages.length === 1);
    providers.fakeStt.willHear('first question');
    await speak({ transport: h.transport, clock }, 600);
    await clock.until(() => h.session.turnState === 'assistant-speaking');
    providers.fakeStt.willHear('second question');
    await speak({ transport: h.transport, clock }, 1000);
    await clock.until(() => h.session.messages.length === 5);
    expect(h.transport.of('clear')).toHaveLength(0);
    expect(h.session.messages.map((m) => [m.role, m.interrupted ?? false])).toEqual([
      ['assistant', false],
      ['user', false],
      ['user', false],
      ['assistant', false],
      ['assistant', false],
    ]);
    expect(h.session.messages[3]?.text).toMatch(/^This is a fairly long answer/);
    expect(h.session.messages[4]?.text).toBe('Second.');
    h.transport.disconnect();
    await h.session.done;
  });
});
