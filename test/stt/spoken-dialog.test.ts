/**
 * Spoken dialog with held-out callers: phrasings and a voice (flite `awb`) the grammar was not
 * tuned on, synthesised, decoded by the real pocketsphinx with the grammar the demo dialog hands
 * it at each step, and understood by the dialog. Skipped when flite or pocketsphinx is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDialog } from '../../src/engine/demo-assistant.js';
import type { ChatMessage } from '../../src/llm/llm.js';
import { ScriptedLlm } from '../../src/llm/scripted/scripted-llm.js';
import { createPocketsphinxStt, type PocketsphinxStt } from '../../src/stt/pocketsphinx/index.js';
import type { SttEvent } from '../../src/stt/stt.js';
import { createFliteTts, type FliteTts } from '../../src/tts/flite/index.js';
import { concat, frames, never, noise } from '../speech/helpers.js';

let stt: PocketsphinxStt | undefined;
let flite: FliteTts | undefined;

beforeAll(async () => {
  try {
    [stt, flite] = await Promise.all([createPocketsphinxStt(), createFliteTts({ voice: 'awb' })]);
  } catch {
    stt = undefined;
  }
}, 60_000);
afterAll(() => stt?.close());

async function speak(text: string): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  for await (const c of (flite as FliteTts).synthesize(text, { sampleRate: 16000 }, never)) parts.push(c);
  return concat([noise(6400), ...parts, noise(4800)]);
}

async function nextFinal(events: AsyncIterator<SttEvent>): Promise<Extract<SttEvent, { type: 'final' }>> {
  for (;;) {
    const { value, done } = await events.next();
    if (done) throw new Error('stream ended');
    if (value.type === 'error') throw value.error;
    if (value.type === 'final') return value;
  }
}

/** Speaks each reply, decodes it with the dialog's grammar, and plays it through the dialog. */
async function call(replies: readonly string[]) {
  const llm = new ScriptedLlm(demoDialog);
  const chat: ChatMessage[] = [
    { role: 'assistant', content: 'Hello, would you like to book an appointment?' },
  ];
  const stream = (stt as PocketsphinxStt).stream(
    { sampleRate: 16000, language: 'en-US', expectedPhrases: llm.expectedPhrases(chat) ?? [] },
    never,
  );
  const events = stream[Symbol.asyncIterator]();
  const heard: string[] = [];
  const said: string[] = [];
  let tool: { name: string; arguments: Record<string, string> } | undefined;
  for (const reply of replies) {
    stream.setExpectedPhrases?.(llm.expectedPhrases(chat));
    for (const f of frames(await speak(reply), 320)) stream.push(f);
    stream.flush();
    // A reply heard as nothing (no final) is what a call gets as silence: give up on it after 20 s.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), 20_000);
    });
    const final = await Promise.race([nextFinal(events), deadline]);
    clearTimeout(timer);
    if (!final) {
      heard.push('(nothing)');
      break;
    }
    heard.push(final.text);
    chat.push({ role: 'user', content: final.text });
    const { output } = llm.replay(chat);
    said.push(output.text.join(' '));
    chat.push({ role: 'assistant', content: output.text.join(' ') });
    if (output.toolCall) tool = output.toolCall;
    if (output.end || output.toolCall) break;
  }
  await stream.close();
  return { heard, said, tool };
}

describe('spoken dialog: held-out phrasings and voice through pocketsphinx and the demo dialog', () => {
  it('books from full sentences with fillers and politeness', async (ctx) => {
    if (!stt || !flite) return ctx.skip();
    const { heard, tool } = await call([
      'um yes I would like to book an appointment please',
      'how about wednesday',
      'at eleven o clock please',
      "yes that's right",
    ]);
    expect(tool, JSON.stringify(heard)).toEqual({
      name: 'bookAppointment',
      arguments: { day: 'wednesday', time: 'eleven' },
    });
  }, 120_000);

  it('a day and a time at the opening question go to the confirmation; "no, Friday" corrects the day', async (ctx) => {
    if (!stt || !flite) return ctx.skip();
    const { heard, said } = await call(['thursday at two please', 'no, friday']);
    expect(said, JSON.stringify(heard)).toEqual([
      'So that is thursday at two o clock. Shall I book it?',
      'So that is friday at two o clock. Shall I book it?',
    ]);
  }, 120_000);
});
