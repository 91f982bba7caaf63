import { describe, expect, it } from 'vitest';
import { isTerminal, LifecycleError, newWebCall, transition } from '../../src/engine/call-lifecycle.js';
import { matchesPhrase } from '../../src/engine/end-phrases.js';
import { Endpointer, VadEdge } from '../../src/engine/endpointing.js';
import { Pacer } from '../../src/engine/pacer.js';
import { heardPrefix, MarkTracker } from '../../src/engine/playout.js';
import { SentenceSplitter } from '../../src/engine/sentence-splitter.js';
import { TtsCache } from '../../src/engine/tts-cache.js';
import { TurnMachine } from '../../src/engine/turn-state.js';
import { EnergyVad } from '../../src/testing/energy-vad.js';
import { fakeProviders, frames } from '../../src/testing/fake-providers.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { speak, startSession } from './helpers.js';

describe('engine pieces', () => {
  it('lifecycle: queued → ongoing → finished; forbidden transitions throw', () => {
    const queued = newWebCall({ id: 'WC-1', teamId: 't', assistantId: 'a', userNumber: 'web-x', now: 1000 });
    const ongoing = transition(queued, { type: 'connect' }, 2000);
    expect(ongoing).toMatchObject({ status: 'ongoing', phoneCallStatus: 'in-progress' });
    const ended = transition(
      ongoing,
      { type: 'end', trigger: 'user', reason: 'Customer hung up' },
      7500,
      2000,
    );
    expect(ended).toMatchObject({
      status: 'finished',
      callEndTriggerBy: 'user',
      assistantCallDuration: 5500,
    });
    expect(isTerminal(ended)).toBe(true);
    expect(() => transition(ended, { type: 'connect' }, 8000)).toThrow(LifecycleError);
    expect(() => transition(queued, { type: 'end', trigger: 'user', reason: 'x' }, 8000)).toThrow(
      LifecycleError,
    );
    expect(
      transition(ongoing, { type: 'end', trigger: 'system', reason: 'STT failed', error: true }, 3000)
        .phoneCallStatus,
    ).toBe('ended-with-error');
  });

  it('turns: only meaningful transitions change state', () => {
    const t = new TurnMachine();
    expect(t.apply('reply-done')).toBe(false);
    expect(t.apply('user-started')).toBe(true);
    expect(t.apply('user-turn')).toBe(true);
    expect(t.apply('reply-started')).toBe(true);
    expect(t.state).toBe('assistant-speaking');
    expect(t.apply('interrupted')).toBe(true);
    expect(t.state).toBe('user-speaking');
  });

  it('endpointing: start after 60 ms of speech, end after the silence, vadMs counted', () => {
    const e = new Endpointer(new EnergyVad({ sampleRate: 16000, frameMs: 20 }), {
      frameMs: 20,
      endpointingMs: 500,
    });
    const edges: [number, number][] = [];
    for (const f of [
      ...frames('silence', 200, 16000),
      ...frames('speech', 1000, 16000),
      ...frames('silence', 600, 16000),
    ]) {
      const edge = e.push(f);
      if (edge !== VadEdge.None) edges.push([edge, e.positionMs]);
    }
    expect(edges).toEqual([
      [VadEdge.SpeechStart, 260],
      [VadEdge.SpeechEnd, 1700],
    ]);
    expect(e.utteranceStartMs).toBe(200);
    expect(e.utteranceEndMs).toBe(1200);
    expect(e.takeSpeechMs()).toBe(1000);
  });

  it('sentences: cut as they complete, offsets into the full text', () => {
    const s = new SentenceSplitter();
    const out = [...s.push('Hello there, friend. How are'), ...s.push(' you today? Fine'), ...s.flush()];
    expect(out.map((x) => x.text)).toEqual(['Hello there, friend.', 'How are you today?', 'Fine']);
    for (const x of out) expect(s.fullText.slice(x.start, x.end)).toBe(x.text);
  });

  it('playout: heard words are proportional to played audio, always a prefix', () => {
    const text = 'One two three four. Five six seven eight.';
    const sentences = [
      { text: 'One two three four.', start: 0, end: 19, audioStartMs: 0, audioMs: 1000 },
      { text: 'Five six seven eight.', start: 20, end: 41, audioStartMs: 1000, audioMs: 1000 },
    ];
    expect(heardPrefix(text, sentences, 0)).toBe('');
    expect(heardPrefix(text, sentences, 500)).toBe('One two');
    expect(heardPrefix(text, sentences, 1000)).toBe('One two three four.');
    expect(heardPrefix(text, sentences, 1760)).toBe('One two three four. Five six seven');
    expect(heardPrefix(text, sentences, 5000)).toBe(text);
    const marks = new MarkTracker<string>();
    const a = marks.add('u', 200);
    const b = marks.add('u', 400);
    expect(marks.ack(b)?.positionMs).toBe(400);
    expect(marks.ack(a)).toBeUndefined();
    marks.add('u', 600);
    marks.clear();
    expect(marks.size).toBe(0);
  });

  it('end phrases match whole words, case and punctuation aside', () => {
    expect(matchesPhrase('OK, Goodbye!', ['goodbye'])).toBe(true);
    expect(matchesPhrase('goodbyes are hard', ['goodbye'])).toBe(false);
    expect(matchesPhrase('well bye bye then', ['bye bye'])).toBe(true);
    // However the recogniser spaces, hyphenates or punctuates the same words.
    expect(matchesPhrase('ok good bye', ['goodbye'])).toBe(true);
    expect(matchesPhrase('Good-bye.', ['goodbye'])).toBe(true);
    expect(matchesPhrase('byebye', ['bye-bye'])).toBe(true);
    expect(matchesPhrase('thats all thanks', ["that's all"])).toBe(true);
    expect(matchesPhrase('GOODBYE', ['good bye'])).toBe(true);
    // Still whole words only.
    expect(matchesPhrase('good byes all round', ['goodbye'])).toBe(false);
    expect(matchesPhrase('a goodbye', ['good'])).toBe(false);
  });

  it('pacer: one timer for all outputs, catches up after a stall', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock, 20);
    let a = 0;
    let b = 0;
    pacer.add({
      tick: () => {
        a++;
        return true;
      },
    });
    pacer.add({
      tick: () => {
        b++;
        return true;
      },
    });
    await clock.advance(200);
    expect([a, b]).toEqual([10, 10]);
    expect(clock.pendingTimers).toBe(1);
    pacer.stop();
  });

  it('TTS cache: a fixed phrase plays from the cache the second time (isCachePlaying)', async () => {
    const clock = new ManualClock();
    const providers = fakeProviders({ clock });
    const cache = new TtsCache();
    const run = async () => {
      const h = { ...startSession({ clock, providers, ttsCache: cache }), clock };
      h.transport.hello();
      await clock.until(() => h.session.messages.length === 1);
      h.transport.disconnect();
      await h.session.done;
      return h.session.messages[0]?.metrics.tts;
    };
    const first = await run();
    const second = await run();
    expect(first?.isCachePlaying).toBe(false);
    expect(first?.generationTimeMs).toBeGreaterThan(0);
    expect(second).toMatchObject({
      isCachePlaying: true,
      generationTimeMs: 0,
      audioDurationMs: first?.audioDurationMs,
    });
    expect(providers.fakeTts.texts).toHaveLength(1);
  });

  it('manual welcome mode: waits for the client to ask (say)', async () => {
    const clock = new ManualClock();
    const h = {
      ...startSession({
        clock,
        providers: fakeProviders({ clock }),
        assistant: { welcomeMessageMode: 'manual', clientSayEnabled: true },
      }),
      clock,
    };
    h.transport.hello({ audioOutput: false });
    await clock.advance(1000);
    expect(h.session.messages).toHaveLength(0);
    h.transport.say();
    await clock.until(() => h.session.messages.length === 1);
    expect(h.session.messages[0]?.messageId).toBe('welcome-1');
    h.transport.say('Anything else?');
    await clock.until(() => h.session.messages.length === 2);
    expect(h.session.messages[1]).toMatchObject({ text: 'Anything else?', clientSupplied: true });
    h.transport.end();
    expect((await h.session.done).callEndTriggerBy).toBe('user');
  });
});

describe('cleanup', () => {
  it('an ended call leaves no timer, no paced output and no open STT stream behind', async () => {
    const clock = new ManualClock();
    const providers = fakeProviders({ clock });
    const pacer = new Pacer(clock);
    for (const end of ['disconnect', 'end', 'idle'] as const) {
      const h = { ...startSession({ clock, providers, pacer, assistant: { idleTimeoutSeconds: 2 } }), clock };
      h.transport.hello();
      providers.fakeStt.willHear('hello there');
      await speak(h, 600);
      await clock.until(() => h.session.messages.length === 3);
      if (end === 'disconnect') h.transport.disconnect();
      else if (end === 'end') h.transport.end();
      await clock.until(() => h.transport.closed !== undefined, 30_000);
      await h.session.done;
      await clock.advance(3000); // grace timers of the goodbye, if any, run out
      expect(pacer.size, end).toBe(0);
      expect(clock.pendingTimers, end).toBe(0);
    }
  });
});
