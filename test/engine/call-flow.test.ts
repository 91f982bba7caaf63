import { describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../../src/contract/conversation-schema.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { schemaErrors, silence, speak, startSession } from './helpers.js';

describe('a call over the fake transport (manual clock)', () => {
  it('runs welcome → user → assistant → goodbye with contract event order and seed-001 metrics', async () => {
    const clock = new ManualClock();
    const llm = new FakeLlm({ clock, respond: () => 'Sure. Your table for two is booked at seven tonight.' });
    const providers = fakeProviders({ clock, llm });
    const h = {
      ...startSession({ clock, providers, assistant: { welcomeMessage: 'Hello! How can I help?' } }),
      clock,
    };

    await clock.advance(0);
    expect(h.types()).toEqual(['status-update']);
    h.transport.hello();
    await clock.advance(0);
    expect(h.session.call.status).toBe('ongoing');
    // The welcome plays (2.3 s of fake audio) and the client acks its marks.
    await clock.until(() => h.session.messages.length === 1);
    expect(h.session.messages[0]?.messageId).toBe('welcome-1');

    providers.fakeStt.willHear('a table for two at seven please');
    await speak(h, 1200);
    await clock.until(() => h.session.messages.length === 3);
    providers.fakeStt.willHear('thanks goodbye');
    await speak(h, 800);
    await h.clock.until(() => h.transport.closed !== undefined);
    const call = await h.session.done;

    expect(h.types()).toEqual([
      'status-update',
      'status-update',
      'conversation-update',
      'conversation-update',
      'conversation-update',
      'conversation-update',
      'conversation-update',
      'status-update',
      'end-of-call-report',
    ]);
    const events = h.sink.forCall(call.id);
    expect(schemaErrors(events)).toEqual([]);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.call.status)).toEqual([
      'queued',
      'ongoing',
      'ongoing',
      'ongoing',
      'ongoing',
      'ongoing',
      'ongoing',
      'finished',
      'finished',
    ]);
    expect(call.callEndTriggerBy).toBe('user');
    expect(call.phoneCallStatus).toBe('completed');
    expect(call.assistantCallDuration).toBeGreaterThan(0);
    const report = events.at(-1) as { durationSeconds: number; call: { endAt?: string; cost?: unknown } };
    expect(report.call.endAt).toBeDefined();
    expect(report.call.cost).toBeDefined();

    const messages = (events.at(-1) as { messages: ConversationMessage[] }).messages;
    expect(messages.map((m) => [m.role, m.text])).toEqual([
      ['assistant', 'Hello! How can I help?'],
      ['user', 'a table for two at seven please'],
      ['assistant', 'Sure. Your table for two is booked at seven tonight.'],
      ['user', 'thanks goodbye'],
      ['assistant', 'Thank you for calling. Goodbye!'],
    ]);
    const [welcome, user, reply] = messages as [
      ConversationMessage,
      ConversationMessage,
      ConversationMessage,
    ];
    expect(welcome.metrics.llm).toEqual({});
    expect(welcome.metrics.tts?.audioDurationMs).toBeGreaterThan(1000);
    expect(user.messageId).toBe('user-1');
    expect(reply.messageId).toMatch(/^user-1-[A-Za-z0-9]{10}-\d{13}$/);
    // Every seed-001 metric that applies is there.
    expect(Object.keys(user.metrics.timeline ?? {}).sort()).toEqual([
      'offsetFromPreviousTurnMs',
      'totalElapsedTimeMs',
    ]);
    expect(Object.keys(user.metrics.audio ?? {}).sort()).toEqual([
      'audioDelayPerTurnMs',
      'delayedPacketsPerTurnCount',
      'totalAudioReceivedMs',
    ]);
    expect(Object.keys(user.metrics.stt ?? {}).sort()).toEqual([
      'confidence',
      'endOffsetMs',
      'startOffsetMs',
      'timestampMs',
      'vadMs',
    ]);
    expect(user.metrics.stt?.vadMs).toBe(1200);
    expect(Object.keys(reply.metrics.tts ?? {}).sort()).toEqual([
      'audioDurationMs',
      'generationTimeMs',
      'isCachePlaying',
      'queueLatencyMs',
    ]);
    expect(Object.keys(reply.metrics.llm ?? {}).sort()).toEqual(['queueLatencyMs', 'responseLatencyMs']);
    // Fake LLM: 250 ms to first token; the reply starts after the user's final transcript.
    expect(reply.metrics.llm?.responseLatencyMs).toBe(250);
    expect(reply.metrics.timeline?.totalElapsedTimeMs).toBeGreaterThan(
      user.metrics.timeline?.totalElapsedTimeMs ?? 0,
    );
    expect(h.transport.of('transcript').some((t) => !t.final)).toBe(true);
    await silence(h, 0);
  });

  it('answers user-text on a text-only client without audio metrics', async () => {
    const clock = new ManualClock();
    const providers = fakeProviders({ clock });
    const h = { ...startSession({ clock, providers }), clock };
    h.transport.hello({ audioOutput: false });
    await clock.until(() => h.session.messages.length === 1);
    h.transport.userText('what time is it');
    await clock.until(() => h.session.messages.length === 3);
    h.transport.disconnect();
    const call = await h.session.done;
    expect(call.callEndTriggerBy).toBe('user');
    expect(call.phoneCallStatusReason).toBe('Customer hung up');
    const events = h.sink.forCall(call.id);
    expect(schemaErrors(events)).toEqual([]);
    const [, user, reply] = h.session.messages;
    expect(user?.metrics.audio).toBeUndefined();
    expect(user?.metrics.stt).toBeUndefined();
    expect(reply?.text).toBe('You said: what time is it.');
    expect(reply?.metrics.tts).toBeUndefined();
    expect(
      h.transport
        .of('assistant-text')
        .filter((e) => e.final)
        .map((e) => e.text),
    ).toEqual(['Hello! How can I help you today?', 'You said: what time is it.']);
    expect(h.types().slice(-2)).toEqual(['status-update', 'end-of-call-report']);
  });
});
