import type { ConversationMessage } from '../webhooks/events/conversation-schema.js';

/**
 * Per-call figures for the end-of-call report: `call.cost` (per vendor and total, USD; the
 * local providers cost nothing) and `call.metrics` (statistics over the messages).
 */
export function callCost(vendors: readonly string[]): Record<string, unknown> {
  return { currency: 'USD', vendors: Object.fromEntries(vendors.map((v) => [v, 0])), total: 0 };
}

export function callMetrics(
  messages: readonly ConversationMessage[],
  totalAudioReceivedMs: number,
): Record<string, unknown> {
  const users = messages.filter((m) => m.role === 'user');
  const assistants = messages.filter((m) => m.role === 'assistant');
  const latencies = assistants
    .map((m) => m.metrics.llm?.responseLatencyMs)
    .filter((v): v is number => typeof v === 'number');
  return {
    userMessages: users.length,
    assistantMessages: assistants.length,
    interruptions: assistants.filter((m) => m.interrupted).length,
    skippedAssistantMessages: users.reduce((n, m) => n + (m.skippedAssistantMessages?.length ?? 0), 0),
    totalAudioReceivedMs,
    ...(latencies.length > 0
      ? { averageResponseLatencyMs: Math.round(latencies.reduce((a, b) => a + b, 0) / latencies.length) }
      : {}),
  };
}
