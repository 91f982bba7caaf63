/**
 * One reply to one user turn: the model's stream is cut into sentences and spoken as it comes;
 * tool calls run and their results go back to the model (a few rounds at most). Built-in tools
 * come back as an action for the call (end, forward), or run through it (transfer, DTMF).
 */
import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { ChatMessage, LlmProvider, LlmToolCall } from '../llm/llm.js';
import type { Clock } from '../shared/clock.js';
import { ProviderError } from '../shared/provider-error.js';
import type { ToolCallResult } from './call-event-sink.js';
import type { CallReporter } from './call-reporter.js';
import type { Conversation } from './conversation.js';
import { SentenceSplitter } from './sentence-splitter.js';
import type { SpeechOutput } from './speech-output.js';
import {
  DTMF_DIGITS,
  DTMF_TOOL,
  describeResult,
  END_CALL_TOOL,
  findFunctionTool,
  runFunctionTool,
  TRANSFER_CALL_TOOL,
  toolDefinitions,
  transferTarget,
} from './tools.js';
import type { Utterance } from './utterance.js';

export type ReplyAction =
  | { type: 'end' }
  /** Forward by ending the call (a medium that cannot transfer): say `message`, then end as forwarded. */
  | { type: 'transfer'; to: string; message?: string }
  /** The medium transferred the caller: the call ends as forwarded, the line is not hung up. */
  | { type: 'transferred'; to: string }
  | { type: 'none' };

/** What the call did with a `transferCall`. */
export type TransferOutcome =
  | { type: 'unsupported' }
  | { type: 'transferred' }
  /** The caller stays: the call said so and recorded the error; the model is told. */
  | { type: 'failed'; error: string };

export interface ReplyDeps {
  clock: Clock;
  llm: LlmProvider;
  assistant: AssistantSpec;
  conversation: Conversation;
  speech: SpeechOutput;
  reporter: CallReporter;
  /** May the caller interrupt these messages. */
  interruptible: boolean;
  onError(error: ProviderError): void;
  /** A message of this reply was created (before any of it plays). */
  onUtterance?(u: Utterance): void;
  /** Carries out a transfer where the medium can (message played first). */
  transfer(target: { number: string; message?: string }, signal: AbortSignal): Promise<TransferOutcome>;
  /** Sends keypad digits (the `dtmf` tool); never throws. */
  sendDtmf(digits: string, signal: AbortSignal): Promise<ToolCallResult>;
}

const MAX_TOOL_ROUNDS = 5;

export async function runReply(
  deps: ReplyDeps,
  turn: { turnEndAt: number },
  signal: AbortSignal,
): Promise<ReplyAction> {
  const { clock, llm, assistant, conversation, speech } = deps;
  const tools = toolDefinitions(assistant);
  let reference = turn.turnEndAt;
  for (let round = 0; round < MAX_TOOL_ROUNDS; round++) {
    const requestAt = clock.now();
    const messageId = conversation.assistantMessageId(requestAt);
    const splitter = new SentenceSplitter();
    const toolCalls: LlmToolCall[] = [];
    let u: Utterance | undefined;
    let firstTokenAt: number | undefined;
    const messages: ChatMessage[] = [
      ...(assistant.assistantSystemPrompt
        ? [{ role: 'system' as const, content: assistant.assistantSystemPrompt }]
        : []),
      ...conversation.chat,
    ];
    try {
      const stream = llm.chat(
        {
          model: assistant.assistantModel,
          messages,
          ...(tools.length > 0 ? { tools } : {}),
          temperature: assistant.assistantTemperature,
          maxTokens: assistant.assistantMaxTokens,
        },
        signal,
      );
      for await (const chunk of stream) {
        if (signal.aborted) break;
        if (chunk.type === 'text') {
          firstTokenAt ??= clock.now();
          if (!u) {
            if (!chunk.text.trim() && !splitter.fullText.trim()) {
              splitter.push(chunk.text);
              continue;
            }
            u = speech.begin(messageId, {
              interruptible: deps.interruptible,
              meta: {
                llm: {
                  turnEndAt: reference,
                  responseLatencyMs: Math.max(0, Math.round(firstTokenAt - reference)),
                  queueLatencyMs: Math.max(0, Math.round(requestAt - reference)),
                  firstTokenMs: firstTokenAt - requestAt,
                },
              },
            });
            deps.onUtterance?.(u);
          }
          for (const sentence of splitter.push(chunk.text))
            speech.addSentence(u, sentence, splitter.fullText);
          conversation.chatAssistant(messageId, splitter.fullText);
        } else if (chunk.type === 'tool-call') {
          toolCalls.push(chunk.call);
        }
      }
    } catch (error) {
      if (signal.aborted) return { type: 'none' };
      deps.onError(ProviderError.from(error, 'llm_error', llm.name, 'stream_failed'));
    }
    if (u) {
      if (toolCalls.some((c) => c.name === END_CALL_TOOL || c.name === TRANSFER_CALL_TOOL))
        u.meta.endsCall = true;
      for (const sentence of splitter.flush()) speech.addSentence(u, sentence, splitter.fullText);
      speech.finishText(u, splitter.fullText);
    }
    if (signal.aborted || toolCalls.length === 0) return { type: 'none' };

    conversation.chatAssistant(messageId, splitter.fullText, toolCalls);
    for (const call of toolCalls) {
      if (call.name === END_CALL_TOOL) {
        conversation.chatToolResult(call.id, call.name, JSON.stringify({ ok: true }));
        return { type: 'end' };
      }
      if (call.name === TRANSFER_CALL_TOOL) {
        const target = transferTarget(assistant, call);
        if (!target) {
          conversation.chatToolResult(call.id, call.name, JSON.stringify({ error: 'no destination' }));
          continue;
        }
        const outcome = await deps.transfer(target, signal);
        if (signal.aborted) return { type: 'none' };
        if (outcome.type === 'failed') {
          // The caller was told; the conversation resumes with their next turn.
          conversation.chatToolResult(
            call.id,
            call.name,
            describeResult({ ok: false, error: outcome.error }),
          );
          return { type: 'none' };
        }
        conversation.chatToolResult(call.id, call.name, JSON.stringify({ ok: true }));
        if (outcome.type === 'transferred') return { type: 'transferred', to: target.number };
        return {
          type: 'transfer',
          to: target.number,
          ...(target.message ? { message: target.message } : {}),
        };
      }
      if (call.name === DTMF_TOOL) {
        const digits = call.arguments.digits;
        const result =
          typeof digits === 'string' && DTMF_DIGITS.test(digits)
            ? await deps.sendDtmf(digits, signal)
            : { ok: false as const, error: 'digits must be 1-64 of 0-9, *, #, A-D' };
        if (signal.aborted) return { type: 'none' };
        conversation.chatToolResult(call.id, call.name, describeResult(result));
        continue;
      }
      const tool = findFunctionTool(assistant, call.name);
      const waitMessage = tool?.messages?.requestStart;
      if (waitMessage) {
        const waiting = speech.say(conversation.assistantMessageId(clock.now()), waitMessage, {
          interruptible: deps.interruptible,
        });
        deps.onUtterance?.(waiting);
      }
      const result = await runFunctionTool(assistant, deps.reporter, call, signal);
      if (signal.aborted) return { type: 'none' };
      if (!result.ok) {
        deps.onError(
          new ProviderError({
            type: 'tool_error',
            code: 'tool_failed',
            message: `${call.name}: ${result.error}`,
            provider: call.name,
            retryable: false,
          }),
        );
        const failed = tool?.messages?.requestFailed;
        if (failed) {
          const said = speech.say(conversation.assistantMessageId(clock.now()), failed, {
            interruptible: deps.interruptible,
          });
          deps.onUtterance?.(said);
        }
      }
      conversation.chatToolResult(call.id, call.name, describeResult(result));
    }
    reference = clock.now();
  }
  return { type: 'none' };
}
