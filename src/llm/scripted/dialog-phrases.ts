/**
 * The replies a scripted dialog expects where it waits, as plain phrases for a recogniser's
 * grammar (`SttOptions.expectedPhrases`): the node's own replies, the phrases of the slots in
 * play (so several can be given at once), yes and no, and the dialog-wide intents. How people
 * wrap them ("I'd like …", "um", "please") is the grammar's business (stt/pocketsphinx/grammar.ts).
 * Undefined means open vocabulary: a pattern or catch-all the phrases cannot list.
 */
import type { Dialog, DialogState, Slot } from './dialog-schema.js';
import { slotPhrases } from './slots.js';
import { type GlobalIntent, normalize } from './understanding.js';

/** Yes and no as callers say them, for the grammar (the understanding takes more). */
// biome-ignore format: a word list reads best packed
export const YES_REPLIES = [
  'yes', 'yeah', 'yep', 'sure', 'okay', 'correct', 'right', "that's right", "that's correct", 'yes please',
  'absolutely', 'of course', 'go ahead', 'sounds good', 'perfect', 'fine', 'please do', 'uh huh',
  'yes it is', 'yes that is right',
];
// biome-ignore format: a word list reads best packed
export const NO_REPLIES = [
  'no', 'nope', 'no thanks', 'no thank you', 'not really', "that's wrong", "that's not right", 'nah',
  'no it is not', "i don't think so",
];

// biome-ignore format: a word list reads best packed
const INTENT_REPLIES: Record<GlobalIntent, readonly string[]> = {
  // Not a bare "bye": short enough for a grammar to hear it in a breath after another answer.
  goodbye: ['goodbye', 'good bye', 'bye bye', "that's all", 'no that is all', "that's all thank you"],
  help: ['help', 'i need help', 'what are my options', "i don't understand"],
  repeat: ['repeat that', 'say that again', 'pardon', 'what', 'sorry', 'come again', 'what was that'],
  startOver: ['start over', 'start again'],
  operator: ['operator', 'a real person', 'speak to someone', 'talk to a person'],
};

function intentReplies(dialog: Dialog): string[] {
  const out: string[] = [];
  for (const [intent, phrases] of Object.entries(INTENT_REPLIES) as [GlobalIntent, readonly string[]][]) {
    const spec = dialog.intents?.[intent];
    if (spec?.enabled === false) continue;
    out.push(...phrases, ...(spec?.phrases ?? []));
  }
  return out;
}

function phrasesOf(slots: Readonly<Record<string, Slot>>, names: readonly string[]): string[] | undefined {
  const out: string[] = [];
  for (const name of names) {
    const slot = slots[name];
    const list = slot ? slotPhrases(slot) : undefined;
    if (!list) return undefined;
    out.push(...list);
  }
  return out;
}

/** Replies the dialog expects at its current node (for an STT grammar); undefined: open. */
export function expectedPhrases(dialog: Dialog, state: DialogState): string[] | undefined {
  if (state.ended || state.pendingTool) return undefined;
  const node = dialog.nodes[state.node];
  const slots = dialog.slots ?? {};
  const phrases: string[] = [];
  if (node?.collect) {
    const list = phrasesOf(slots, node.collect.slots);
    if (!list) return undefined;
    phrases.push(...list, ...YES_REPLIES, ...NO_REPLIES);
  } else if (node?.expect) {
    for (const e of node.expect) {
      if (e.phrases) phrases.push(...e.phrases);
      else if (e.keywords && e.keywords.length > 0) phrases.push(...e.keywords);
      else if (e.intent) phrases.push(...(e.intent === 'yes' ? YES_REPLIES : NO_REPLIES));
      else if (e.fills) {
        const list = phrasesOf(slots, e.fills);
        if (!list) return undefined;
        phrases.push(...list);
      } else return undefined; // a pattern without phrases, or a catch-all: open vocabulary
    }
  } else return undefined;
  phrases.push(...intentReplies(dialog));
  return [...new Set(phrases.map(normalize).filter((p) => p.length > 0))];
}
