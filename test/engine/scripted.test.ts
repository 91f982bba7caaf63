import { describe, expect, it } from 'vitest';
import { demoAssistant, demoDialog } from '../../src/engine/demo-assistant.js';
import type { ChatMessage } from '../../src/llm/llm.js';
import { validateDialog } from '../../src/llm/scripted/dialog.js';
import { ScriptedLlm } from '../../src/llm/scripted/scripted-llm.js';
import { fakeProviders } from '../../src/testing/fake-providers.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { RecordingSink } from '../../src/testing/recording-sink.js';
import { schemaErrors, startSession } from './helpers.js';

async function answer(llm: ScriptedLlm, messages: ChatMessage[]) {
  const out: { text: string; tools: string[] } = { text: '', tools: [] };
  for await (const chunk of llm.chat({ model: 'dialog', messages }, new AbortController().signal)) {
    if (chunk.type === 'text') out.text += chunk.text;
    if (chunk.type === 'tool-call')
      out.tools.push(`${chunk.call.name}(${JSON.stringify(chunk.call.arguments)})`);
  }
  return out;
}

describe('scripted provider', () => {
  it('validates dialogs: references, roles, patterns', () => {
    expect(validateDialog(demoDialog)).toBeUndefined();
    expect(validateDialog({ start: 'a', nodes: {} })?.field).toBe('dialog.start');
    expect(validateDialog({ start: 'a', nodes: { a: { say: 'x', next: 'b' } } })?.message).toMatch(
      /"b", which does not exist/,
    );
    expect(
      validateDialog({ start: 'a', nodes: { a: { expect: [{ pattern: '(', next: 'a' }] } } })?.field,
    ).toBe('dialog.nodes.a.expect.0.pattern');
    expect(validateDialog({ start: 'a', nodes: { a: { next: 'a', end: true } } })?.message).toMatch(
      /only one of/,
    );
    expect(validateDialog({ start: 'a', nodes: { a: { say: 1 } } })?.field).toBe('dialog.nodes.a.say');
  });

  it('replays the conversation: keywords, extraction into variables, tool, branch, end', async () => {
    const llm = new ScriptedLlm(demoDialog);
    const chat: ChatMessage[] = [{ role: 'assistant', content: 'Hello, would you like to book?' }];
    expect(llm.expectedPhrases(chat)).toContain('yes please');
    chat.push({ role: 'user', content: 'Yes please.' });
    expect((await answer(llm, chat)).text).toBe('Which day suits you? We are open Monday to Friday.');
    chat.push({ role: 'user', content: 'Saturday' });
    expect((await answer(llm, chat)).text).toMatch(/^Sorry, we are open Monday to Friday/);
    chat.push({ role: 'user', content: 'on Tuesday' });
    expect((await answer(llm, chat)).text).toBe(
      'What time on tuesday? We have nine, ten, eleven, two, three or four o clock.',
    );
    expect(llm.expectedPhrases(chat)).toContain('at ten o clock');
    chat.push({ role: 'user', content: 'at ten' });
    chat.push({ role: 'user', content: 'yes' });
    const booking = await answer(llm, chat);
    expect(booking).toEqual({
      text: 'One moment please.',
      tools: ['bookAppointment({"day":"tuesday","time":"ten"})'],
    });
    expect(llm.expectedPhrases(chat)).toBeUndefined();
    chat.push({
      role: 'assistant',
      content: 'One moment please.',
      toolCalls: [{ id: 'call_1', name: 'bookAppointment', arguments: {} }],
    });
    chat.push({
      role: 'tool',
      toolCallId: 'call_1',
      name: 'bookAppointment',
      content: '{"confirmation":"A1"}',
    });
    expect(await answer(llm, chat)).toEqual({
      text: 'You are booked for tuesday at ten o clock. Thank you for calling. Goodbye!',
      tools: ['endCall({})'],
    });
    const failed = [
      ...chat.slice(0, -1),
      { role: 'tool' as const, toolCallId: 'call_1', name: 'bookAppointment', content: '{"error":"down"}' },
    ];
    expect((await answer(llm, failed)).text).toMatch(/could not reach the booking system/);
  });

  it('runs the demo assistant as a text call: books through its tool and hangs up (bot)', async () => {
    const clock = new ManualClock();
    const sink = new RecordingSink(
      (call) => ({ ok: true, result: { booked: true, ...call.function.arguments } }),
      () => clock.now(),
    );
    const providers = fakeProviders({ clock, llm: new ScriptedLlm(demoDialog) });
    const h = startSession({ clock, providers, sink, assistant: demoAssistant() });
    h.transport.hello({ audioOutput: false });
    for (const say of ['yes', 'wednesday', 'eleven', 'yes']) {
      const before = h.session.messages.length;
      await clock.until(() => h.session.turnState === 'listening' && h.session.messages.length > 0);
      h.transport.userText(say);
      await clock.until(() => h.session.messages.length > before + 1);
    }
    await clock.until(() => h.transport.closed !== undefined);
    const call = await h.session.done;
    expect(call.callEndTriggerBy).toBe('bot');
    expect(h.session.messages.at(-1)?.text).toBe(
      'You are booked for wednesday at eleven o clock. Thank you for calling. Goodbye!',
    );
    const types = h.types();
    expect(types).toContain('tool-calls');
    expect(types.slice(-2)).toEqual(['status-update', 'end-of-call-report']);
    expect(schemaErrors(h.sink.forCall(call.id))).toEqual([]);
  });
});
