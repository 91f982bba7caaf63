/**
 * Replies to the synchronous requests, in the contract's formats (CONTRACT.md "tool-calls" and
 * "assistant-request"). Each helper returns the JSON body to answer with (status 200).
 */
import type { Assistant, ToolCall } from './generated/types.js';

export type ToolResult = { toolCallId: string; result: unknown } | { toolCallId: string; error: string };

/** Format 1: `{"results": [{"toolCallId", "result" | "error"}]}`, one item per tool call. */
export function toolCallsReply(results: readonly ToolResult[]): {
  results: ({ toolCallId: string; result: unknown } | { toolCallId: string; error: string })[];
} {
  return {
    results: results.map((r) =>
      'error' in r
        ? { toolCallId: r.toolCallId, error: r.error }
        : { toolCallId: r.toolCallId, result: r.result },
    ),
  };
}

/**
 * Runs a handler per tool call (concurrently) and builds the format-1 reply; a handler that
 * throws gives that call an `error` result (its message), the others still answer.
 */
export async function answerToolCalls(
  toolCallList: readonly ToolCall[],
  handler: (name: string, args: Record<string, unknown>, call: ToolCall) => unknown,
): Promise<ReturnType<typeof toolCallsReply>> {
  const results = await Promise.all(
    toolCallList.map(async (call): Promise<ToolResult> => {
      try {
        return {
          toolCallId: call.id,
          result: await handler(call.function.name, call.function.arguments, call),
        };
      } catch (err) {
        return { toolCallId: call.id, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  return toolCallsReply(results);
}

/** `{"error": "…"}`: every tool call of the request failed with that text. */
export function toolCallsError(message: string): { error: string } {
  return { error: message };
}

export type AssistantRequestReply =
  | Record<string, never>
  | { assistant: Partial<Assistant> & Record<string, unknown>; metadata?: Record<string, unknown> }
  | { assistantId: string; assistantOverrides?: Record<string, unknown>; metadata?: Record<string, unknown> }
  | { error: string };

export const assistantRequestReply = {
  /** `{}`: the team's defaults. */
  defaults: (): AssistantRequestReply => ({}),
  /** `{"assistant": {...}}`: an inline assistant for this call. */
  assistant: (assistant: Partial<Assistant> & Record<string, unknown>, metadata?: Record<string, unknown>) =>
    (metadata ? { assistant, metadata } : { assistant }) as AssistantRequestReply,
  /** `{"assistantId", "assistantOverrides"}`: a stored assistant, optionally overridden. */
  assistantId: (
    assistantId: string,
    assistantOverrides?: Record<string, unknown>,
    metadata?: Record<string, unknown>,
  ): AssistantRequestReply => ({
    assistantId,
    ...(assistantOverrides ? { assistantOverrides } : {}),
    ...(metadata ? { metadata } : {}),
  }),
  /** `{"error": "…"}`: spoken to the caller, then the call ends. */
  error: (message: string): AssistantRequestReply => ({ error: message }),
};
