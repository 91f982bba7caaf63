/**
 * Offline analysis for the `scripted` provider: the dialog is replayed over the call's history,
 * its extracted variables are the structured data, the summary comes from a template, and the
 * success evaluation is the dialog's own outcome (it reached an end, every tool it called
 * succeeded, and it called one when it has any).
 */
import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { Call } from '../contract/call-schema.js';
import type { ConversationMessage } from '../contract/conversation-schema.js';
import type { ChatMessage } from '../llm/llm.js';
import { type Dialog, render, validateDialog } from '../llm/scripted/dialog.js';
import { ScriptedLlm } from '../llm/scripted/scripted-llm.js';

const DEFAULT_SUMMARY_TEMPLATE =
  'Call with {{assistantName}}: {{durationSeconds}} s, {{userTurns}} caller replies; ended by {{endedBy}} ({{endedReason}}).{{details}}';

export interface DialogOutcome {
  /** Variables the dialog extracted (tool results left out). */
  variables: Record<string, string>;
  /** Every variable, tool results included (for templates). */
  allVariables: Record<string, string>;
  ended: boolean;
  toolsSucceeded: number;
  toolsFailed: number;
  hasTools: boolean;
}

const BUILT_IN_TOOLS = new Set(['endCall', 'transferCall']);

/** The model's history, or one rebuilt from the messages (no tool results) when it is not known. */
export function chatOf(
  messages: readonly ConversationMessage[],
  chat?: readonly ChatMessage[],
): ChatMessage[] {
  if (chat) return [...chat];
  return messages.map((m) =>
    m.role === 'user' ? { role: 'user', content: m.text } : { role: 'assistant', content: m.text },
  );
}

function toolFailed(content: string): boolean {
  try {
    const parsed: unknown = JSON.parse(content);
    return (
      typeof parsed === 'object' && parsed !== null && 'error' in parsed && Object.keys(parsed).length === 1
    );
  } catch {
    return false;
  }
}

export function dialogOutcome(
  assistant: AssistantSpec,
  chat: readonly ChatMessage[],
): DialogOutcome | undefined {
  const dialog = assistant.dialog as unknown as Dialog | undefined;
  if (!dialog || validateDialog(dialog)) return undefined;
  const { state } = new ScriptedLlm(dialog).replay(chat);
  const resultVariables = new Set(
    Object.values(dialog.nodes).flatMap((n) => (n.tool?.resultVariable ? [n.tool.resultVariable] : [])),
  );
  const variables = Object.fromEntries(
    Object.entries(state.vars).filter(([k]) => !k.includes('.') && !resultVariables.has(k)),
  );
  const tools = chat.filter(
    (m): m is Extract<ChatMessage, { role: 'tool' }> => m.role === 'tool' && !BUILT_IN_TOOLS.has(m.name),
  );
  const failed = tools.filter((t) => toolFailed(t.content)).length;
  return {
    variables,
    allVariables: { ...state.vars },
    ended: state.ended,
    toolsSucceeded: tools.length - failed,
    toolsFailed: failed,
    hasTools: Object.values(dialog.nodes).some((n) => n.tool !== undefined),
  };
}

/** The dialog's variables as the schema wants them: its properties only, simple types coerced. */
export function offlineStructuredData(
  variables: Record<string, string>,
  schema: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const properties = schema?.properties as Record<string, { type?: unknown }> | undefined;
  if (!properties) return { ...variables };
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(properties)) {
    const value = variables[key];
    if (value === undefined) continue;
    const type = prop?.type;
    if ((type === 'number' || type === 'integer') && value.trim() !== '' && Number.isFinite(Number(value)))
      out[key] = Number(value);
    else if (type === 'boolean' && /^(true|false|yes|no)$/i.test(value))
      out[key] = /^(true|yes)$/i.test(value);
    else out[key] = value;
  }
  return out;
}

/** Offline outcome in [0, 1]: 1 when the dialog did its job, else the share of required data it got. */
export function offlineScore(outcome: DialogOutcome | undefined, schema?: Record<string, unknown>): number {
  if (!outcome) return 0;
  const pass =
    outcome.ended && outcome.toolsFailed === 0 && (!outcome.hasTools || outcome.toolsSucceeded > 0);
  if (pass) return 1;
  const wanted =
    (schema?.required as string[] | undefined) ?? Object.keys((schema?.properties as object) ?? {});
  if (wanted.length === 0) return 0;
  return (0.8 * wanted.filter((k) => outcome.variables[k] !== undefined).length) / wanted.length;
}

export function templateSummary(input: {
  template?: string;
  assistant: AssistantSpec;
  call: Call;
  messages: readonly ConversationMessage[];
  variables: Record<string, string>;
  allVariables?: Record<string, string>;
}): string {
  const { call, messages, variables } = input;
  const listed = Object.entries(variables).filter(([, v]) => v !== '');
  const details = listed.length ? ` Collected: ${listed.map(([k, v]) => `${k} ${v}`).join(', ')}.` : '';
  const vars: Record<string, string> = {
    ...(input.allVariables ?? variables),
    assistantName: input.assistant.name,
    durationSeconds: String(Math.round(call.assistantCallDuration / 1000)),
    endedReason: call.phoneCallStatusReason,
    endedBy: call.callEndTriggerBy || 'nobody',
    userTurns: String(messages.filter((m) => m.role === 'user').length),
    botTurns: String(messages.filter((m) => m.role === 'assistant').length),
    details,
    variables: listed.map(([k, v]) => `${k}: ${v}`).join(', '),
  };
  return render(input.template ?? DEFAULT_SUMMARY_TEMPLATE, vars)
    .replace(/\s+/g, ' ')
    .trim();
}
