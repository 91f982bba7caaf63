import { ProviderError } from '../../shared/provider-error.js';
import type { ChatMessage, LlmChunk, LlmProvider, LlmRequest } from '../llm.js';
import {
  type Dialog,
  type DialogOutput,
  type DialogState,
  expectedPhrases,
  initialState,
  onToolResult,
  onUser,
  validateDialog,
} from './dialog.js';

/**
 * The `scripted` provider: a deterministic, offline brain that follows the assistant's dialog
 * graph. It is stateless: each request replays the conversation's user replies and tool
 * results through the graph, then answers for the last one (text, a tool call, or `endCall`).
 * It also tells the call which replies it expects next, for the STT grammar.
 */
export class ScriptedLlm implements LlmProvider {
  readonly name = 'scripted';

  constructor(private readonly dialog: Dialog) {
    const error = validateDialog(dialog);
    if (error) {
      throw new ProviderError({
        type: 'llm_error',
        code: 'invalid_dialog',
        message: error.message,
        provider: 'scripted',
        retryable: false,
      });
    }
  }

  /** Runs the dialog over the history; returns the state and the answer to the last input. */
  replay(messages: readonly ChatMessage[]): { state: DialogState; output: DialogOutput } {
    const state = initialState(this.dialog);
    let output: DialogOutput = { text: [] };
    for (const m of messages) {
      if (m.role === 'user') {
        output = { text: [] };
        onUser(this.dialog, state, m.content, output);
      } else if (m.role === 'tool') {
        output = { text: [] };
        onToolResult(this.dialog, state, m.content, output);
      } else if (m.role === 'assistant' && !m.toolCalls?.length) {
        // What was said does not move the dialog; only replies and tool results do.
      }
    }
    const last = messages.at(-1);
    if (!last || (last.role !== 'user' && last.role !== 'tool')) output = { text: [] };
    return { state, output };
  }

  expectedPhrases(messages: readonly ChatMessage[]): readonly string[] | undefined {
    return expectedPhrases(this.dialog, this.replay(messages).state);
  }

  async *chat(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmChunk> {
    if (signal.aborted) return;
    if (request.messages.length === 0) {
      throw new ProviderError({
        type: 'llm_error',
        code: 'invalid_request',
        message: 'scripted: messages must not be empty',
        provider: 'scripted',
        retryable: false,
      });
    }
    const { output } = this.replay(request.messages);
    const text = output.text.filter((t) => t.trim()).join(' ');
    if (text) yield { type: 'text', text };
    const toolCalls = request.messages.filter((m) => m.role === 'tool').length;
    if (output.toolCall) {
      yield {
        type: 'tool-call',
        call: {
          id: `call_${toolCalls + 1}`,
          name: output.toolCall.name,
          arguments: output.toolCall.arguments,
        },
      };
    } else if (output.end) {
      yield { type: 'tool-call', call: { id: `call_${toolCalls + 1}`, name: 'endCall', arguments: {} } };
    }
    yield { type: 'usage', inputTokens: 0, outputTokens: 0 };
  }
}
