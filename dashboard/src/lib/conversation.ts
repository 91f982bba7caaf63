import type {
  ConversationMessage,
  EventMessage,
  WebhookDeliveryDetail,
} from '../../../browser-sdk/src/index.js';

/** The messages an event carries (conversation-update, hang, error, end-of-call-report). */
export function messagesOf(event: EventMessage | undefined): ConversationMessage[] | undefined {
  if (!event || !('messages' in event)) return undefined;
  return event.messages;
}

/** A delivery's payload is `{ message }` (or, in older rows, the message itself). */
export function eventOfPayload(payload: unknown): EventMessage | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as { message?: unknown; type?: unknown };
  if (typeof p.message === 'object' && p.message !== null) return p.message as EventMessage;
  if (typeof p.type === 'string') return payload as EventMessage;
  return undefined;
}

export function messagesOfDelivery(detail: WebhookDeliveryDetail): ConversationMessage[] | undefined {
  return messagesOf(eventOfPayload(detail.payload));
}

export interface TurnLatency {
  turn: string;
  messageId: string;
  stt: number;
  llm: number;
  tts: number;
  interrupted: boolean;
}

/**
 * Per assistant turn: STT (end of the caller's speech → transcript, from the user message
 * before it), LLM time to first token, TTS generation time of the first audio; the same
 * figures the server's `call.metrics.latency` is computed from.
 */
export function turnLatencies(messages: readonly ConversationMessage[]): TurnLatency[] {
  const turns: TurnLatency[] = [];
  messages.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const previous = messages[i - 1];
    let stt = 0;
    if (previous?.role === 'user') {
      const received = previous.metrics.audio?.totalAudioReceivedMs;
      const end = previous.metrics.stt?.endOffsetMs;
      if (received !== undefined && end !== undefined) stt = Math.max(0, received - end);
    }
    const tts = m.metrics.tts?.isCachePlaying ? 0 : (m.metrics.tts?.generationTimeMs ?? 0);
    const label = m.messageId.startsWith('welcome') ? 'welcome' : `#${turns.length + 1}`;
    turns.push({
      // Interrupted turns are marked on the axis (✂) and in the tooltip.
      turn: m.interrupted ? `${label} ✂` : label,
      messageId: m.messageId,
      stt: Math.round(stt),
      llm: Math.round(m.metrics.llm?.responseLatencyMs ?? 0),
      tts: Math.round(tts),
      interrupted: m.interrupted === true,
    });
  });
  return turns;
}
