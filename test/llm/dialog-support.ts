import type { ChatMessage } from '../../src/llm/llm.js';
import type { Dialog } from '../../src/llm/scripted/dialog.js';
import { ScriptedLlm } from '../../src/llm/scripted/scripted-llm.js';

export interface Turn {
  said: string;
  tool?: { name: string; arguments: Record<string, string> };
  end: boolean;
}

/**
 * Plays a caller's replies through a scripted dialog (as the engine would: user messages, the
 * tool's result answered with `toolResult`) and returns what the assistant said after each.
 */
export function talk(
  dialog: Dialog,
  replies: readonly string[],
  toolResult: (args: Record<string, string>) => unknown = (a) => ({ booked: true, ...a }),
): { turns: Turn[]; llm: ScriptedLlm; chat: ChatMessage[]; vars: Record<string, string> } {
  const llm = new ScriptedLlm(dialog);
  const chat: ChatMessage[] = [{ role: 'assistant', content: 'Welcome.' }];
  const turns: Turn[] = [];
  let calls = 0;
  for (const reply of replies) {
    chat.push({ role: 'user', content: reply });
    let { output } = llm.replay(chat);
    let said = output.text.join(' ');
    while (output.toolCall) {
      calls += 1;
      const id = `call_${calls}`;
      const tool = output.toolCall;
      turns.push({ said, tool, end: false });
      chat.push({
        role: 'assistant',
        content: said,
        toolCalls: [{ id, name: tool.name, arguments: tool.arguments }],
      });
      chat.push({
        role: 'tool',
        toolCallId: id,
        name: tool.name,
        content: JSON.stringify(toolResult(tool.arguments)),
      });
      output = llm.replay(chat).output;
      said = output.text.join(' ');
    }
    turns.push({ said, end: output.end === true });
    chat.push({ role: 'assistant', content: said });
    if (output.end) break;
  }
  return { turns, llm, chat, vars: llm.replay(chat).state.vars };
}

/** The tool call made in a conversation, if any. */
export function toolOf(turns: readonly Turn[]): Turn['tool'] {
  return turns.find((t) => t.tool)?.tool;
}
