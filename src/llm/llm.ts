/**
 * Language models: one small, streaming-first interface. A provider turns a chat history
 * (and tool definitions) into a stream of text deltas, tool calls and usage.
 */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: LlmToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string };

export interface LlmToolCall {
  id: string;
  name: string;
  /** Parsed JSON arguments. */
  arguments: Record<string, unknown>;
}

export interface LlmToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface LlmRequest {
  model: string;
  messages: readonly ChatMessage[];
  tools?: readonly LlmToolDefinition[];
  temperature?: number;
  maxTokens?: number;
}

export type LlmChunk =
  | { type: 'text'; text: string }
  | { type: 'tool-call'; call: LlmToolCall }
  | {
      type: 'usage';
      inputTokens: number;
      outputTokens: number;
      /** Set when another provider than the one asked answered (a fallback): who to bill. */
      provider?: string;
      model?: string;
    };

export interface LlmProvider {
  readonly name: string;
  /** Throws `ProviderError` (type `llm_error`) on failure; stops promptly when `signal` aborts. */
  chat(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmChunk>;
}
