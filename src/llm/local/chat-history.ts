import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from 'node-llama-cpp';
import type { ChatMessage } from '../llm.js';

/**
 * Parley's chat messages as node-llama-cpp's chat history. An assistant turn's tool calls carry
 * their results (node-llama-cpp renders call and result together, in the model's own syntax),
 * so each `tool` message is folded into the call it answers. The history always ends with a
 * model response for the model to write (a new, empty one after a user message; the open one
 * after tool results, so the model continues from them).
 */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const calls = new Map<string, ChatModelFunctionCall>();
  let lastModel: ChatModelResponse | undefined;
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        history.push({ type: 'system', text: m.content });
        lastModel = undefined;
        break;
      case 'user':
        history.push({ type: 'user', text: m.content });
        lastModel = undefined;
        break;
      case 'assistant': {
        const response: ChatModelResponse['response'] = [];
        if (m.content) response.push(m.content);
        for (const call of m.toolCalls ?? []) {
          const item: ChatModelFunctionCall = {
            type: 'functionCall',
            name: call.name,
            params: call.arguments,
            result: '',
          };
          calls.set(call.id, item);
          response.push(item);
        }
        lastModel = { type: 'model', response };
        history.push(lastModel);
        break;
      }
      case 'tool': {
        const call = calls.get(m.toolCallId);
        const result = parseResult(m.content);
        if (call) call.result = result;
        else {
          // A result without its call (trimmed history): keep the information as a call.
          if (!lastModel) {
            lastModel = { type: 'model', response: [] };
            history.push(lastModel);
          }
          lastModel.response.push({ type: 'functionCall', name: m.name, params: {}, result });
        }
        break;
      }
    }
  }
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

function parseResult(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    return content;
  }
}
