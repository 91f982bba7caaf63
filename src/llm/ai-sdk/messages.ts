import { jsonSchema, type ModelMessage, type ToolSet, tool } from 'ai';
import type { ChatMessage, LlmToolDefinition } from '../llm.js';

/**
 * Parley's chat history and tool definitions in the AI SDK's shapes. Every system message
 * becomes part of the `system` parameter, in order: Gemini rejects system messages after the
 * start of a conversation and Anthropic's Messages API has no system role in `messages`, so a
 * top-level system prompt is the one form every provider takes. Tools carry no `execute`: the
 * SDK only reports the model's tool calls, and Parley runs them.
 */
export function toModelMessages(messages: readonly ChatMessage[]): {
  system: string | undefined;
  messages: ModelMessage[];
} {
  const systemParts: string[] = [];
  const out: ModelMessage[] = [];
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        systemParts.push(m.content);
        break;
      case 'user':
        out.push({ role: 'user', content: m.content });
        break;
      case 'assistant':
        if (!m.toolCalls?.length) {
          out.push({ role: 'assistant', content: m.content });
        } else {
          out.push({
            role: 'assistant',
            content: [
              ...(m.content ? [{ type: 'text' as const, text: m.content }] : []),
              ...m.toolCalls.map((call) => ({
                type: 'tool-call' as const,
                toolCallId: call.id,
                toolName: call.name,
                input: call.arguments,
              })),
            ],
          });
        }
        break;
      case 'tool': {
        const part = {
          type: 'tool-result' as const,
          toolCallId: m.toolCallId,
          toolName: m.name,
          output: { type: 'text' as const, value: m.content },
        };
        // Results of one turn's parallel calls go in one tool message (Anthropic requires it).
        const previous = out.at(-1);
        if (previous?.role === 'tool') previous.content.push(part);
        else out.push({ role: 'tool', content: [part] });
        break;
      }
    }
  }
  return { system: systemParts.length ? systemParts.join('\n\n') : undefined, messages: out };
}

export function toToolSet(tools: readonly LlmToolDefinition[] | undefined): ToolSet | undefined {
  if (!tools?.length) return undefined;
  const set: ToolSet = {};
  for (const t of tools) {
    set[t.name] = tool({
      description: t.description,
      // biome-ignore lint/suspicious/noExplicitAny: JSON Schema given by the assistant, checked where it is defined
      inputSchema: jsonSchema<Record<string, unknown>>(t.parameters as any),
    });
  }
  return set;
}
