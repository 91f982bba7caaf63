import { describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../../src/contract/conversation-schema.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { schemaErrors, speak, startSession } from './helpers.js';

const LONG =
  'Our clinic has three locations. The first one is downtown, near the station. The second is by the river, next to the park. The third one opened last spring in the north. Each one is open from eight to six.';

describe('barge-in', () => {
  it('keeps only the words heard (interrupted: true) and lists never-played replies as skipped', async () => {
    const clock = new ManualClock();
    let turn = 0;
    const llm = new FakeLlm({
      clock,
      firstTokenMs: 100,
      tokenMs: 5,
      respond: () => (++turn === 1 ? LONG : turn === 2 ? 'Which location would you like?' : 'Okay.'),
    });
    const providers = fakeProviders({ clock, llm, tts: { firstChunkMs: 300 } });
    const h = { ...startSession({ clock, providers, assistant: { welcomeMessage: 'Hi.' } }), clock };
    h.transport.hello();
    await clock.until(() => h.session.messages.length === 1);

    providers.fakeStt.willHear('where are you');
    await speak(h, 800);
    // The long reply starts playing; after about 2 s the caller talks over it.
    await clock.until(() => h.session.turnState === 'assistant-speaking');
    await clock.advance(2000);
    providers.fakeStt.willHear('the river one');
    providers.fakeStt.willHear('actually wait');
    // Speaks, pauses just long enough for endpointing, and goes on speaking before the
    // second reply could play (its TTS takes 300 ms to start).
    await speak(h, 1000, 520);
    await speak(h, 800);
    await clock.until(() => h.session.messages.length === 6);
    h.transport.disconnect();
    const call = await h.session.done;

    const messages = h.session.messages as ConversationMessage[];
    expect(messages.map((m) => m.role)).toEqual([
      'assistant',
      'user',
      'assistant',
      'user',
      'user',
      'assistant',
    ]);
    const interrupted = messages[2] as ConversationMessage;
    expect(interrupted.interrupted).toBe(true);
    expect(interrupted.text.length).toBeGreaterThan(0);
    expect(interrupted.text.length).toBeLessThan(LONG.length);
    expect(LONG.startsWith(interrupted.text)).toBe(true);
    // About 2 s of a ~11 s reply was played: the heard text is a short prefix.
    expect(interrupted.text.split(' ').length).toBeLessThan(15);
    expect(h.transport.of('clear').length).toBeGreaterThanOrEqual(1);

    const displacing = messages[4] as ConversationMessage;
    expect(displacing.text).toBe('actually wait');
    expect(displacing.skippedAssistantMessages).toHaveLength(1);
    expect(displacing.skippedAssistantMessages?.[0]?.text).toBe('Which location would you like?');
    expect(displacing.skippedAssistantMessages?.[0]?.messageId).toMatch(/^user-2-/);
    expect(messages[5]?.text).toBe('Okay.');
    // The model's history holds what was heard, not what was generated.
    const lastRequest = llm.requests.at(-1);
    expect(lastRequest?.messages.some((m) => m.content === LONG)).toBe(false);
    expect(lastRequest?.messages.some((m) => m.content === 'Which location would you like?')).toBe(false);
    expect(schemaErrors(h.sink.forCall(call.id))).toEqual([]);
  });

  it('a short noise does not interrupt; the welcome is not interruptible by default', async () => {
    const clock = new ManualClock();
    const providers = fakeProviders({ clock });
    const h = {
      ...startSession({ clock, providers, assistant: { welcomeMessage: LONG } }),
      clock,
    };
    h.transport.hello();
    await clock.until(() => h.session.turnState === 'assistant-speaking');
    await speak(h, 1500, 100); // talks over the welcome: not interruptible
    expect(h.transport.of('clear')).toHaveLength(0);
    await clock.until(() => h.session.messages.length >= 1);
    expect(h.session.messages[0]?.interrupted).toBeUndefined();
    expect(h.session.messages[0]?.text).toBe(LONG);
  });

  it('ignores a cough (speech shorter than the interruption minimum)', async () => {
    const clock = new ManualClock();
    const providers = fakeProviders({ clock });
    const h = {
      ...startSession({
        clock,
        providers,
        assistant: { welcomeMessage: LONG, welcomeMessageInterruptionsEnabled: true },
      }),
      clock,
    };
    h.transport.hello();
    await clock.until(() => h.session.turnState === 'assistant-speaking');
    await speak(h, 200, 100);
    expect(h.transport.of('clear')).toHaveLength(0);
    await speak(h, 600, 100);
    expect(h.transport.of('clear')).toHaveLength(1);
    await clock.until(() => h.session.messages.length >= 1);
    expect(h.session.messages[0]?.interrupted).toBe(true);
  });
});
