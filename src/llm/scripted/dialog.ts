import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { AssistantSpec } from '../../contract/assistant-schema.js';

/**
 * The dialog graph of a `scripted` assistant (`assistant.dialog`): nodes that say something
 * (with `{{variable}}` templates), expect replies (keywords, or a regular expression whose
 * named groups become variables), call a tool, branch, or end the call.
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
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Text = Type.String({ maxLength: 2000 });

export const ExpectationSchema = Type.Object(
  {
    keywords: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
    pattern: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description: 'case-insensitive regex; named groups set variables',
      }),
    ),
    set: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Text)),
    phrases: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
        maxItems: 500,
        description: 'replies to hand to the STT grammar (default: the keywords)',
      }),
    ),
    next: Name,
  },
  { additionalProperties: false },
);

export const DialogNodeSchema = Type.Object(
  {
    say: Type.Optional(Text),
    expect: Type.Optional(Type.Array(ExpectationSchema, { minItems: 1, maxItems: 50 })),
    noMatch: Type.Optional(
      Type.Object({ say: Type.Optional(Text), next: Type.Optional(Name) }, { additionalProperties: false }),
    ),
    tool: Type.Optional(
      Type.Object(
        {
          name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
          arguments: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Text)),
          resultVariable: Type.Optional(Name),
          next: Name,
          onError: Type.Optional(Name),
        },
        { additionalProperties: false },
      ),
    ),
    next: Type.Optional(Name),
    end: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const DialogSchema = Type.Object(
  {
    start: Name,
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Text)),
    nodes: Type.Record(Name, DialogNodeSchema),
  },
  { additionalProperties: false },
);

export type Dialog = Static<typeof DialogSchema>;
export type DialogNode = Static<typeof DialogNodeSchema>;
export type Expectation = Static<typeof ExpectationSchema>;

export interface DialogError {
  message: string;
  field: string;
}

/** Checks shape and references (every `next` exists, patterns compile, one role per node). */
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
  for (const [name, node] of Object.entries(d.nodes)) {
    const at = `dialog.nodes.${name}`;
    const ref = (target: string | undefined, field: string): DialogError | undefined =>
      target !== undefined && !d.nodes[target]
        ? { message: `node "${name}" goes to "${target}", which does not exist`, field: `${at}.${field}` }
        : undefined;
    const roles = [node.expect, node.tool, node.next, node.end].filter((r) => r !== undefined).length;
    if (roles > 1)
      return { message: `node "${name}" can have only one of expect, tool, next, end`, field: at };
    if (roles === 0 && node.say === undefined) return { message: `node "${name}" does nothing`, field: at };
    const bad =
      ref(node.next, 'next') ??
      ref(node.noMatch?.next, 'noMatch.next') ??
      ref(node.tool?.next, 'tool.next') ??
      ref(node.tool?.onError, 'tool.onError');
    if (bad) return bad;
    for (const [i, e] of (node.expect ?? []).entries()) {
      const missing = ref(e.next, `expect.${i}.next`);
      if (missing) return missing;
      if (e.pattern !== undefined) {
        try {
          new RegExp(e.pattern, 'iu');
        } catch (error) {
          return { message: `bad pattern: ${(error as Error).message}`, field: `${at}.expect.${i}.pattern` };
        }
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

// ---------------------------------------------------------------- running a dialog
export interface DialogState {
  node: string;
  vars: Record<string, string>;
  /** The tool node waiting for its result. */
  pendingTool: string | undefined;
  ended: boolean;
}

export interface DialogOutput {
  text: string[];
  toolCall?: { name: string; arguments: Record<string, string> };
  end?: boolean;
}

export function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, name: string) => vars[name] ?? '');
}

export function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .trim();
}

export function initialState(dialog: Dialog): DialogState {
  return { node: dialog.start, vars: { ...(dialog.variables ?? {}) }, pendingTool: undefined, ended: false };
}

/** Enters `name` and runs on through says and `next`s until the dialog waits (reply or tool) or ends. */
export function enter(dialog: Dialog, state: DialogState, name: string, out: DialogOutput): void {
  let current: string | undefined = name;
  for (let guard = 0; current !== undefined && guard < 100; guard++) {
    const node: DialogNode | undefined = dialog.nodes[current];
    if (!node) return;
    state.node = current;
    if (node.say) out.text.push(render(node.say, state.vars));
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
    current = node.next;
  }
}

function matchExpectation(e: Expectation, text: string): Record<string, string> | undefined {
  const normal = ` ${normalize(text)} `;
  if (e.pattern !== undefined) {
    const m = new RegExp(e.pattern, 'iu').exec(normalize(text));
    if (!m) return undefined;
    const groups: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) groups[k] = v;
    return groups;
  }
  if (e.keywords && e.keywords.length > 0) {
    return e.keywords.some((k) => normal.includes(` ${normalize(k)} `)) ? {} : undefined;
  }
  return {}; // catch-all
}

export function onUser(dialog: Dialog, state: DialogState, text: string, out: DialogOutput): void {
  if (state.ended || state.pendingTool) return;
  const node = dialog.nodes[state.node];
  if (!node) return;
  for (const e of node.expect ?? []) {
    const groups = matchExpectation(e, text);
    if (!groups) continue;
    Object.assign(state.vars, groups);
    for (const [k, v] of Object.entries(e.set ?? {})) state.vars[k] = render(v, state.vars);
    enter(dialog, state, e.next, out);
    return;
  }
  if (node.noMatch?.say) out.text.push(render(node.noMatch.say, state.vars));
  if (node.noMatch?.next) {
    enter(dialog, state, node.noMatch.next, out);
    return;
  }
  if (!node.noMatch?.say) {
    out.text.push(
      node.say
        ? `Sorry, I didn't catch that. ${render(node.say, state.vars)}`
        : "Sorry, I didn't catch that.",
    );
  }
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

/** Replies the dialog expects at its current node (for an STT grammar); undefined: open. */
export function expectedPhrases(dialog: Dialog, state: DialogState): string[] | undefined {
  if (state.ended || state.pendingTool) return undefined;
  const node = dialog.nodes[state.node];
  if (!node?.expect) return undefined;
  const phrases: string[] = [];
  for (const e of node.expect) {
    const list = e.phrases ?? e.keywords;
    if (!list || list.length === 0) return undefined; // a pattern without phrases, or a catch-all: open vocabulary
    phrases.push(...list);
  }
  return [...new Set(phrases.map(normalize))];
}
