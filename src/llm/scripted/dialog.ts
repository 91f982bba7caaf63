/**
 * Running a scripted dialog (the format is in dialog-schema.ts): a reply moves the dialog from
 * the node it waits at. In order, a reply is checked for
 *
 * 1. the dialog-wide intents, in every state: goodbye ("that's all"), operator and start over
 *    anywhere in the reply, help and repeat when they are the whole reply (fillers and
 *    politeness aside);
 * 2. the slots it gives (any slot of the dialog, several at once: mixed initiative);
 * 3. the node's expectations (keywords, pattern, yes/no, slots filled), or the collect logic
 *    (ask what is missing, confirm, take corrections such as "no, Wednesday");
 * 4. else it was not understood: a re-prompt that changes wording and escalates, and after
 *    `noMatch.maxFailures` in a row a graceful end.
 *
 *   { "start": "ask", "nodes": {
 *       "ask":  { "expect": [{ "keywords": ["yes"], "next": "day" }] },
 *       "day":  { "say": "Which day?", "expect": [{ "pattern": "(?<day>monday|friday)", "next": "book" }] },
 *       "book": { "tool": { "name": "book", "arguments": { "day": "{{day}}" }, "next": "done" } },
 *       "done": { "say": "Booked for {{day}}. Goodbye!", "end": true } } }
 *
 * The `start` node's `say` is not spoken at the start (the welcome message is); it is the
 * question repeated when a reply is not understood.
 */
import type { Dialog, DialogNode, DialogState, Expectation } from './dialog-schema.js';
import { extractSlots } from './slots.js';
import { type GlobalIntent, globalIntent, normalize, words, yesNo } from './understanding.js';

export { expectedPhrases } from './dialog-phrases.js';
export type { Dialog, DialogNode, DialogState, Expectation, Slot } from './dialog-schema.js';
export { DialogNodeSchema, DialogSchema, ExpectationSchema } from './dialog-schema.js';
export { type DialogError, validateDialog, validateDialogFor } from './dialog-validation.js';
export { normalize } from './understanding.js';

export interface DialogOutput {
  text: string[];
  toolCall?: { name: string; arguments: Record<string, string> };
  end?: boolean;
}

const DEFAULT_REPROMPTS = [
  "Sorry, I didn't catch that. {{prompt}}",
  "Sorry, I still didn't understand. {{help}}",
];
const DEFAULT_HELP = 'Please answer in a few words. {{prompt}}';
const DEFAULT_GIVE_UP = "I'm sorry, I'm having trouble understanding. Please call again later. Goodbye!";
const DEFAULT_GOODBYE = 'Thank you for calling. Goodbye!';
const DEFAULT_OPERATOR = "I'm sorry, there is no one available to take your call right now. {{prompt}}";
const DEFAULT_START_OVER = "Okay, let's start over.";
const DEFAULT_CHANGE = 'Sorry about that. What would you like instead?';

export function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, name: string) => vars[name] ?? '');
}

export function initialState(dialog: Dialog): DialogState {
  const vars = { ...(dialog.variables ?? {}) };
  const say = dialog.nodes[dialog.start]?.say;
  return {
    node: dialog.start,
    vars,
    pendingTool: undefined,
    ended: false,
    failures: 0,
    prompt: say ? render(say, vars) : '',
    awaiting: undefined,
  };
}

function ask(state: DialogState, out: DialogOutput, text: string): void {
  out.text.push(text);
  state.prompt = text;
}

/** Enters `name` and runs on through says and `next`s until the dialog waits (reply or tool) or ends. */
export function enter(dialog: Dialog, state: DialogState, name: string, out: DialogOutput): void {
  let current: string | undefined = name;
  state.failures = 0;
  state.awaiting = undefined;
  for (let guard = 0; current !== undefined && guard < 100; guard++) {
    const node: DialogNode | undefined = dialog.nodes[current];
    if (!node) return;
    state.node = current;
    if (node.say) {
      const text = render(node.say, state.vars);
      if (node.expect) ask(state, out, text);
      else out.text.push(text);
    }
    if (node.end) {
      out.end = true;
      state.ended = true;
      return;
    }
    if (node.tool) {
      const args: Record<string, string> = {};
      for (const [k, v] of Object.entries(node.tool.arguments ?? {})) args[k] = render(v, state.vars);
      out.toolCall = { name: node.tool.name, arguments: args };
      state.pendingTool = current;
      return;
    }
    if (node.expect) return;
    if (node.collect) {
      const next = advanceCollect(dialog, state, node, out);
      if (next === undefined) return;
      current = next;
      continue;
    }
    current = node.next;
  }
}

/** Asks for the first missing slot or the confirmation; returns the node to go to when done. */
function advanceCollect(
  dialog: Dialog,
  state: DialogState,
  node: DialogNode,
  out: DialogOutput,
): string | undefined {
  const collect = node.collect;
  if (!collect) return undefined;
  const missing = collect.slots.find((s) => state.vars[s] === undefined);
  state.failures = 0;
  if (missing !== undefined) {
    state.awaiting = missing;
    ask(state, out, render(dialog.slots?.[missing]?.prompt ?? '', state.vars));
    return undefined;
  }
  if (collect.confirm !== undefined) {
    state.awaiting = '#confirm';
    ask(state, out, render(collect.confirm, state.vars));
    return undefined;
  }
  state.awaiting = undefined;
  return collect.next;
}

function matchExpectation(
  e: Expectation,
  text: string,
  tokens: readonly string[],
  filled: readonly string[],
) {
  if (e.pattern !== undefined) {
    const m = new RegExp(e.pattern, 'iu').exec(normalize(text));
    if (!m) return undefined;
    const groups: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) groups[k] = v;
    return groups;
  }
  if (e.intent !== undefined) return yesNo(tokens) === e.intent ? {} : undefined;
  if (e.fills !== undefined) return e.fills.some((s) => filled.includes(s)) ? {} : undefined;
  if (e.keywords && e.keywords.length > 0) {
    const normal = ` ${tokens.join(' ')} `;
    return e.keywords.some((k) => normal.includes(` ${normalize(k)} `)) ? {} : undefined;
  }
  return {}; // catch-all
}

export function onUser(dialog: Dialog, state: DialogState, text: string, out: DialogOutput): void {
  if (state.ended || state.pendingTool) return;
  const node = dialog.nodes[state.node];
  if (!node) return;
  const tokens = words(text);
  // Mixed initiative: any slot of the dialog, from any reply.
  const slots = dialog.slots ?? {};
  const asked = state.awaiting && !state.awaiting.startsWith('#') ? state.awaiting : undefined;
  const inPlay = node.collect ? [...node.collect.slots] : [];
  for (const e of node.expect ?? []) inPlay.push(...(e.fills ?? []));
  const scope = [...new Set([...inPlay, ...Object.keys(slots)])];
  const heard = extractSlots(slots, scope, tokens, asked);
  const intent = globalIntent(tokens, intentPhrases(dialog));
  if (intent && runIntent(dialog, state, intent, out)) return;
  const changed = Object.entries(heard.values)
    .filter(([k, v]) => state.vars[k] !== v)
    .map(([k]) => k);
  const filled = Object.keys(heard.values);
  Object.assign(state.vars, heard.values);
  const acknowledge = (names: readonly string[]) => {
    for (const s of names) {
      const ack = slots[s]?.acknowledge;
      if (ack) out.text.push(render(ack, state.vars));
    }
  };

  if (node.expect) {
    for (const e of node.expect) {
      const groups = matchExpectation(e, text, tokens, filled);
      if (!groups) continue;
      Object.assign(state.vars, groups);
      for (const [k, v] of Object.entries(e.set ?? {})) state.vars[k] = render(v, state.vars);
      enter(dialog, state, e.next, out);
      return;
    }
  } else if (node.collect) {
    const collect = node.collect;
    if (changed.length > 0) {
      acknowledge(changed);
      const next = advanceCollect(dialog, state, node, out);
      if (next !== undefined) enter(dialog, state, next, out);
      return;
    }
    const answer = yesNo(tokens);
    if (state.awaiting === '#confirm' && answer === 'yes') {
      enter(dialog, state, collect.next, out);
      return;
    }
    if (state.awaiting === '#confirm' && answer === 'no') {
      state.awaiting = '#change';
      state.failures = 0;
      ask(state, out, render(collect.change ?? DEFAULT_CHANGE, state.vars));
      return;
    }
    if (state.awaiting === '#change' && answer === 'yes') {
      advanceCollect(dialog, state, node, out);
      return;
    }
    if (asked !== undefined && heard.invalid.includes(asked)) {
      const invalid = slots[asked]?.invalid;
      if (invalid) {
        notUnderstood(dialog, state, out, render(invalid, state.vars));
        return;
      }
    }
  }
  if (node.noMatch?.next && !node.collect) {
    if (node.noMatch.say) out.text.push(render(node.noMatch.say, state.vars));
    enter(dialog, state, node.noMatch.next, out);
    return;
  }
  notUnderstood(dialog, state, out);
}

function intentPhrases(dialog: Dialog): Partial<Record<GlobalIntent, readonly string[]>> {
  const out: Partial<Record<GlobalIntent, readonly string[]>> = {};
  for (const [k, v] of Object.entries(dialog.intents ?? {}))
    if (v?.phrases) out[k as GlobalIntent] = v.phrases;
  return out;
}

/** The help text for where the dialog is, with `{{prompt}}` available. */
function helpText(dialog: Dialog, state: DialogState): string {
  const node = dialog.nodes[state.node];
  const slot = state.awaiting ? dialog.slots?.[state.awaiting] : undefined;
  const template = slot?.help ?? node?.help ?? dialog.intents?.help?.say ?? DEFAULT_HELP;
  const vars = { ...state.vars, prompt: state.prompt };
  const text = render(template, vars);
  return template.includes('{{prompt}}') ? text : `${text} ${state.prompt}`.trim();
}

/** Runs a dialog-wide intent; false when it is turned off. */
function runIntent(dialog: Dialog, state: DialogState, intent: GlobalIntent, out: DialogOutput): boolean {
  const spec = dialog.intents?.[intent];
  if (spec?.enabled === false) return false;
  const vars = { ...state.vars, prompt: state.prompt };
  switch (intent) {
    case 'goodbye':
      out.text.push(render(spec?.say ?? DEFAULT_GOODBYE, vars));
      if (spec?.next) enter(dialog, state, spec.next, out);
      else {
        out.end = true;
        state.ended = true;
      }
      return true;
    case 'operator':
      if (spec?.next) {
        if (spec.say) out.text.push(render(spec.say, vars));
        enter(dialog, state, spec.next, out);
      } else out.text.push(render(spec?.say ?? DEFAULT_OPERATOR, vars));
      return true;
    case 'startOver':
      for (const slot of Object.keys(dialog.slots ?? {})) delete state.vars[slot];
      out.text.push(render(spec?.say ?? DEFAULT_START_OVER, vars));
      enter(dialog, state, spec?.next ?? dialog.start, out);
      return true;
    case 'help':
      out.text.push(spec?.next ? render(spec.say ?? '', vars) : helpText(dialog, state));
      if (spec?.next) enter(dialog, state, spec.next, out);
      return true;
    case 'repeat':
      if (spec?.say) out.text.push(render(spec.say, vars));
      out.text.push(state.prompt);
      return true;
  }
}

/** A reply not understood: an escalating re-prompt, or the graceful end after too many. */
function notUnderstood(dialog: Dialog, state: DialogState, out: DialogOutput, first?: string): void {
  state.failures += 1;
  const max = dialog.noMatch?.maxFailures ?? 3;
  if (state.failures >= max) {
    out.text.push(render(dialog.noMatch?.say ?? DEFAULT_GIVE_UP, state.vars));
    if (dialog.noMatch?.next) enter(dialog, state, dialog.noMatch.next, out);
    else {
      out.end = true;
      state.ended = true;
    }
    return;
  }
  const node = dialog.nodes[state.node];
  const slot = state.awaiting ? dialog.slots?.[state.awaiting] : undefined;
  const own = [
    ...(node?.noMatch?.say ? [node.noMatch.say] : []),
    ...(slot?.reprompts ?? node?.reprompts ?? []),
  ];
  const list = own.length > 0 ? own : (dialog.noMatch?.reprompts ?? DEFAULT_REPROMPTS);
  const template = first ?? list[Math.min(state.failures, list.length) - 1] ?? DEFAULT_REPROMPTS[0] ?? '';
  const vars = { ...state.vars, prompt: state.prompt, help: helpText(dialog, state) };
  out.text.push(render(template, vars).trim());
}

export function onToolResult(dialog: Dialog, state: DialogState, content: string, out: DialogOutput): void {
  const nodeName = state.pendingTool;
  state.pendingTool = undefined;
  const tool = nodeName ? dialog.nodes[nodeName]?.tool : undefined;
  if (!tool) return;
  let parsed: unknown = content;
  try {
    parsed = JSON.parse(content);
  } catch {}
  const failed =
    typeof parsed === 'object' && parsed !== null && 'error' in parsed && Object.keys(parsed).length === 1;
  if (tool.resultVariable && !failed) {
    state.vars[tool.resultVariable] = typeof parsed === 'string' ? parsed : JSON.stringify(parsed);
    if (typeof parsed === 'object' && parsed !== null) {
      for (const [k, v] of Object.entries(parsed)) {
        if (['string', 'number', 'boolean'].includes(typeof v))
          state.vars[`${tool.resultVariable}.${k}`] = String(v);
      }
    }
  }
  enter(dialog, state, failed ? (tool.onError ?? tool.next) : tool.next, out);
}
