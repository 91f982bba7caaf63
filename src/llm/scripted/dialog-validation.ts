/**
 * Checks a scripted dialog beyond its JSON shape: every reference names a node or slot that
 * exists, each node has one role, patterns compile, slots have what their type needs. The first
 * problem is returned with the field it is in (`dialog.nodes.ask.expect.0.next`).
 */
import { Value } from '@sinclair/typebox/value';
import type { AssistantSpec } from '../../contract/assistant-schema.js';
import { type Dialog, DialogSchema, type Slot } from './dialog-schema.js';

export interface DialogError {
  message: string;
  field: string;
}

function compiles(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'iu');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function checkSlot(name: string, slot: Slot): DialogError | undefined {
  const at = `dialog.slots.${name}`;
  const need = (field: string, what: string): DialogError => ({
    message: `slot "${name}" of type ${slot.type} needs ${what}`,
    field: `${at}.${field}`,
  });
  if (slot.type === 'choice' && Object.keys(slot.choices ?? {}).length === 0)
    return need('choices', 'choices (value → synonyms)');
  if (slot.type === 'pattern') {
    if (slot.pattern === undefined) return need('pattern', 'a pattern');
    const bad = compiles(slot.pattern);
    if (bad) return { message: `bad pattern: ${bad}`, field: `${at}.pattern` };
  }
  for (const [value, clock] of Object.entries(slot.times ?? {})) {
    const [h, m] = clock.split(':').map(Number);
    if ((h ?? 99) > 23 || (m ?? 99) > 59)
      return { message: `"${clock}" is not a clock time (HH:MM, 24 h)`, field: `${at}.times.${value}` };
  }
  if (slot.min !== undefined && slot.max !== undefined && slot.min > slot.max)
    return { message: `slot "${name}": min is above max`, field: `${at}.min` };
  return undefined;
}

/** Checks shape and references (every `next` and slot exists, patterns compile, one role per node). */
export function validateDialog(dialog: unknown): DialogError | undefined {
  if (!Value.Check(DialogSchema, dialog)) {
    const first = Value.Errors(DialogSchema, dialog).First();
    const path = first?.path.split('/').filter(Boolean).join('.') ?? '';
    return {
      message: `${path || 'dialog'} ${first?.message ?? 'is invalid'}`,
      field: path ? `dialog.${path}` : 'dialog',
    };
  }
  const d = dialog as Dialog;
  const names = Object.keys(d.nodes);
  if (names.length > 500) return { message: 'at most 500 nodes', field: 'dialog.nodes' };
  if (!d.nodes[d.start]) return { message: `start node "${d.start}" does not exist`, field: 'dialog.start' };
  const slots = d.slots ?? {};
  for (const [name, slot] of Object.entries(slots)) {
    const bad = checkSlot(name, slot);
    if (bad) return bad;
  }
  const goesTo = (from: string, target: string | undefined, field: string): DialogError | undefined =>
    target !== undefined && !d.nodes[target]
      ? { message: `${from} goes to "${target}", which does not exist`, field }
      : undefined;
  const slotRef = (from: string, slot: string, field: string): DialogError | undefined =>
    slots[slot] ? undefined : { message: `${from} names slot "${slot}", which does not exist`, field };
  for (const [intent, spec] of Object.entries(d.intents ?? {})) {
    const bad = goesTo(`intent "${intent}"`, spec?.next, `dialog.intents.${intent}.next`);
    if (bad) return bad;
  }
  const noMatchBad = goesTo('noMatch', d.noMatch?.next, 'dialog.noMatch.next');
  if (noMatchBad) return noMatchBad;
  for (const [name, node] of Object.entries(d.nodes)) {
    const at = `dialog.nodes.${name}`;
    const from = `node "${name}"`;
    const roles = [node.expect, node.collect, node.tool, node.next, node.end].filter(
      (r) => r !== undefined,
    ).length;
    if (roles > 1)
      return { message: `${from} can have only one of expect, collect, tool, next, end`, field: at };
    if (roles === 0 && node.say === undefined) return { message: `${from} does nothing`, field: at };
    const bad =
      goesTo(from, node.next, `${at}.next`) ??
      goesTo(from, node.noMatch?.next, `${at}.noMatch.next`) ??
      goesTo(from, node.tool?.next, `${at}.tool.next`) ??
      goesTo(from, node.tool?.onError, `${at}.tool.onError`) ??
      goesTo(from, node.collect?.next, `${at}.collect.next`);
    if (bad) return bad;
    for (const [i, slot] of (node.collect?.slots ?? []).entries()) {
      const missing = slotRef(from, slot, `${at}.collect.slots.${i}`);
      if (missing) return missing;
    }
    for (const [i, e] of (node.expect ?? []).entries()) {
      const field = `${at}.expect.${i}`;
      const missing = goesTo(from, e.next, `${field}.next`);
      if (missing) return missing;
      const matchers = [e.keywords, e.pattern, e.intent, e.fills].filter((m) => m !== undefined).length;
      if (matchers > 1)
        return { message: `${from}: an expectation has one of keywords, pattern, intent, fills`, field };
      for (const [j, slot] of (e.fills ?? []).entries()) {
        const unknown = slotRef(from, slot, `${field}.fills.${j}`);
        if (unknown) return unknown;
      }
      if (e.pattern !== undefined) {
        const badPattern = compiles(e.pattern);
        if (badPattern) return { message: `bad pattern: ${badPattern}`, field: `${field}.pattern` };
      }
    }
  }
  return undefined;
}

/** For a scripted assistant, the dialog's problem (if any); other providers need no dialog. */
export function validateDialogFor(spec: AssistantSpec): DialogError | undefined {
  if (spec.assistantProvider !== 'scripted') return undefined;
  if (!spec.dialog) return { message: 'a scripted assistant needs a dialog', field: 'dialog' };
  return validateDialog(spec.dialog);
}
