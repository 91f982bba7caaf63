/**
 * Tools of an assistant: function tools go to the user's server as `tool-calls` through the
 * call's event sink; `endCall`, `transferCall` and `dtmf` are built in and handled by the call.
 */
import type { AssistantSpec, FunctionTool } from '../contract/assistant-schema.js';
import type { ToolCall } from '../contract/event-schemas.js';
import type { LlmToolCall, LlmToolDefinition } from '../llm/llm.js';
import type { TransferDestination } from '../transports/transport.js';
import type { ToolCallResult } from './call-event-sink.js';
import type { CallReporter } from './call-reporter.js';

export const END_CALL_TOOL = 'endCall';
export const TRANSFER_CALL_TOOL = 'transferCall';
export const DTMF_TOOL = 'dtmf';

/** Keypad digits a call may send or receive. */
export const DTMF_DIGITS = /^[0-9*#A-D]{1,64}$/;

/** A destination as the transport takes it: E.164 (`+15550100`) or a `sip:`/`sips:` URI. */
export function transferDestination(to: string): TransferDestination | undefined {
  if (/^\+[1-9][0-9]{6,14}$/.test(to)) return { type: 'number', number: to };
  if (/^sips?:\S+$/i.test(to)) return { type: 'sip', sipUri: to };
  return undefined;
}

export function toolDefinitions(assistant: AssistantSpec): LlmToolDefinition[] {
  const out: LlmToolDefinition[] = [];
  for (const tool of assistant.tools) {
    if (tool.type === 'function') {
      out.push({
        name: tool.name,
        description: tool.description ?? '',
        parameters: tool.parameters ?? { type: 'object', properties: {} },
      });
    } else if (tool.type === 'endCall') {
      out.push({
        name: END_CALL_TOOL,
        description: tool.description ?? 'End the call when the conversation is over.',
        parameters: { type: 'object', properties: {} },
      });
    } else if (tool.type === 'dtmf') {
      out.push({
        name: DTMF_TOOL,
        description:
          tool.description ??
          'Press keys on the phone keypad (send DTMF tones), for example to choose an option in a phone menu.',
        parameters: {
          type: 'object',
          properties: {
            digits: {
              type: 'string',
              pattern: DTMF_DIGITS.source,
              description: 'The keys to press, in order: 0-9, *, #, A-D',
            },
          },
          required: ['digits'],
        },
      });
    } else {
      out.push({
        name: TRANSFER_CALL_TOOL,
        description: tool.description ?? 'Transfer the caller to another number.',
        parameters: {
          type: 'object',
          properties: {
            destination: {
              type: 'string',
              enum: tool.destinations.map((d) => d.number),
              description: tool.destinations.map((d) => `${d.number}: ${d.description ?? ''}`).join('; '),
            },
          },
          required: ['destination'],
        },
      });
    }
  }
  return out;
}

/** The transfer destination named by a transferCall, with the message to say first. */
export function transferTarget(
  assistant: AssistantSpec,
  call: LlmToolCall,
): { number: string; message?: string } | undefined {
  const tool = assistant.tools.find((t) => t.type === 'transferCall');
  if (tool?.type !== 'transferCall') {
    const given = call.arguments.destination;
    return typeof given === 'string' && given ? { number: given } : undefined;
  }
  const wanted = call.arguments.destination;
  const match = tool.destinations.find((d) => d.number === wanted) ?? tool.destinations[0];
  return match ? { number: match.number, ...(match.message ? { message: match.message } : {}) } : undefined;
}

export function findFunctionTool(assistant: AssistantSpec, name: string): FunctionTool | undefined {
  const tool = assistant.tools.find((t) => t.type === 'function' && t.name === name);
  return tool?.type === 'function' ? tool : undefined;
}

/** What the model is told about a tool's outcome. */
export function describeResult(result: ToolCallResult | undefined): string {
  if (!result) return JSON.stringify({ error: 'the tool gave no result' });
  if (result.ok) return typeof result.result === 'string' ? result.result : JSON.stringify(result.result);
  return JSON.stringify({ error: result.error });
}

/**
 * Runs one function tool call through the webhook engine (which picks the tool's server or the
 * assistant's and records the `tool-calls` event). Sync tools wait for the reply (the engine
 * caps it at 10 s); async tools are fired and the model is told so at once. Never throws.
 */
export async function runFunctionTool(
  assistant: AssistantSpec,
  reporter: CallReporter,
  call: LlmToolCall,
  signal: AbortSignal,
): Promise<ToolCallResult> {
  const tool = findFunctionTool(assistant, call.name);
  if (!tool) return { ok: false, error: `unknown tool "${call.name}"` };
  const toolCall: ToolCall = {
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  };
  const request = reporter.requestToolCalls([toolCall], signal).then(
    (results) => results.get(call.id) ?? { ok: false as const, error: 'the tool reply named no result' },
    (error: unknown) => ({
      ok: false as const,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  if (tool.async) {
    void request;
    return { ok: true, result: 'The request was sent; its result will arrive later.' };
  }
  return request;
}
