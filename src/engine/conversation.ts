/**
 * The conversation of one call, twice: the contract's messages (what receivers get, with
 * metrics) and the chat history the model sees (with tool calls and results). Both hold only
 * what the caller heard: interrupted replies are cut, skipped ones leave the chat.
 */
import { randomBytes } from 'node:crypto';
import type { ConversationMessage, MessageMetrics } from '../contract/conversation-schema.js';
import type { ChatMessage, LlmToolCall } from '../llm/llm.js';
import { toStorableText } from '../shared/storable-text.js';

type Skipped = { messageId: string; text: string; timestamp: number };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomTag(length = 10): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export class Conversation {
  readonly messages: ConversationMessage[] = [];
  readonly chat: ChatMessage[] = [];
  private readonly chatById = new Map<string, ChatMessage & { role: 'assistant' }>();
  private userCount = 0;
  private skipped: Skipped[] = [];
  /** Id of the latest user message (assistant ids derive from it). */
  lastUserMessageId: string | undefined;
  /** Characters of every message's text so far (the per-call conversation limit). */
  chars = 0;
  /** User messages so far (the per-call turn limit). */
  userTurns = 0;

  constructor(readonly callStartMs: number) {}

  nextUserMessageId(): string {
    this.userCount++;
    return `user-${this.userCount}`;
  }

  /** `<userMessageId>-<random>-<epochMs>`, as CONTRACT.md shows. */
  assistantMessageId(now: number): string {
    return `${this.lastUserMessageId ?? 'user-0'}-${randomTag()}-${Math.round(now)}`;
  }

  timeline(timestamp: number): NonNullable<MessageMetrics['timeline']> {
    const previous = this.messages.at(-1);
    return {
      totalElapsedTimeMs: Math.max(0, Math.round(timestamp - this.callStartMs)),
      ...(previous
        ? { offsetFromPreviousTurnMs: Math.max(0, Math.round(timestamp - previous.timestamp)) }
        : {}),
    };
  }

  addUser(messageId: string, text: string, timestamp: number, metrics: MessageMetrics): ConversationMessage {
    this.userTurns++;
    const message: ConversationMessage = {
      messageId,
      role: 'user',
      // Transcripts and model output are stored with the call's events: made storable here.
      text: toStorableText(text),
      timestamp: Math.round(timestamp),
      metrics,
      ...(this.skipped.length > 0 ? { skippedAssistantMessages: this.skipped } : {}),
    };
    this.skipped = [];
    this.messages.push(message);
    this.chars += text.length;
    this.chat.push({ role: 'user', content: text });
    this.lastUserMessageId = messageId;
    return message;
  }

  /**
   * The model produced (part of) a reply or asked for tools: it enters the chat at once (tool
   * loops need it); what the caller heard replaces it later.
   */
  chatAssistant(messageId: string, content: string, toolCalls?: LlmToolCall[]): void {
    let entry = this.chatById.get(messageId);
    if (!entry) {
      entry = { role: 'assistant', content };
      this.chatById.set(messageId, entry);
      this.chat.push(entry);
    }
    entry.content = content;
    if (toolCalls && toolCalls.length > 0) entry.toolCalls = toolCalls;
  }

  chatToolResult(toolCallId: string, name: string, content: string): void {
    this.chat.push({ role: 'tool', toolCallId, name, content });
  }

  /**
   * A reply the caller heard (fully, or cut off with `interrupted`). A line the client asked to
   * be spoken (`clientSupplied`) is marked so and never enters the model's history.
   */
  addAssistant(
    messageId: string,
    text: string,
    timestamp: number,
    metrics: MessageMetrics,
    interrupted: boolean,
    clientSupplied = false,
  ): ConversationMessage {
    const message: ConversationMessage = {
      messageId,
      role: 'assistant',
      text: toStorableText(text),
      timestamp: Math.round(timestamp),
      metrics,
      ...(interrupted ? { interrupted: true } : {}),
      ...(clientSupplied ? { clientSupplied: true } : {}),
    };
    this.messages.push(message);
    this.chars += text.length;
    if (clientSupplied) return message;
    const entry = this.chatById.get(messageId);
    if (entry) entry.content = text;
    else this.chat.push({ role: 'assistant', content: text });
    return message;
  }

  /** A reply generated but never played: it goes to the next user message, and out of the chat. */
  skip(messageId: string, text: string, timestamp: number): void {
    this.skipped.push({ messageId, text, timestamp: Math.round(timestamp) });
    const entry = this.chatById.get(messageId);
    if (!entry) return;
    if (entry.toolCalls && entry.toolCalls.length > 0) {
      entry.content = '';
      return;
    }
    const index = this.chat.indexOf(entry);
    if (index >= 0) this.chat.splice(index, 1);
    this.chatById.delete(messageId);
  }
}
