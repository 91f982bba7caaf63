/**
 * `call.metrics`: per-call statistics, all computed from the per-message metrics of seed 001
 * (so a receiver can recompute them from `messages`):
 *
 * - `turns`: user and bot messages, bot messages cut off (`interrupted`), replies never played
 *   (`skippedAssistantMessages`).
 * - `botResponseTimeMs`: for each bot message that answers a user message, the time from that
 *   user message (its transcript) to the bot's first audio (`offsetFromPreviousTurnMs`).
 * - `bargeIn`: how often the caller cut the bot off, and how far into the bot's message they
 *   started speaking (mean), from the caller's speech start (`stt.startOffsetMs` against
 *   `audio.totalAudioReceivedMs` at the transcript) minus the bot message's first audio.
 * - `latency`: per provider (stt: end of speech → transcript; llm: `responseLatencyMs`;
 *   tts: `generationTimeMs`, cache hits excluded) count, average, total and distribution in
 *   buckets starting at 0, 100, 200, 300, 600, 1000, 3000, 5000 and 10000 ms.
 * - `audio`: caller audio received, and per-turn delay statistics (`audioDelayPerTurnMs`,
 *   `delayedPacketsPerTurnCount`).
 */
import type { ConversationMessage } from '../contract/conversation-schema.js';

export const LATENCY_BUCKETS_MS = [0, 100, 200, 300, 600, 1000, 3000, 5000, 10000] as const;

export interface LatencyStats {
  provider: string;
  count: number;
  averageMs: number;
  totalMs: number;
  minMs: number;
  maxMs: number;
  /** `toMs` is exclusive; the last bucket has none. */
  distribution: { fromMs: number; toMs?: number; count: number }[];
}

export interface Summary {
  count: number;
  averageMs: number;
  minMs: number;
  maxMs: number;
}

export interface CallStatistics {
  turns: { user: number; bot: number; interrupted: number; skipped: number };
  botResponseTimeMs: Summary & { values: number[] };
  bargeIn: { count: number; meanTimeMs: number; values: number[] };
  latency: { stt?: LatencyStats; llm?: LatencyStats; tts?: LatencyStats };
  audio: {
    totalAudioReceivedMs: number;
    turnsWithAudio: number;
    averageDelayMs: number;
    maxDelayMs: number;
    totalDelayedPackets: number;
  };
}

const round = (n: number) => Math.round(n);

function summary(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, averageMs: 0, minMs: 0, maxMs: 0 };
  const total = values.reduce((a, b) => a + b, 0);
  return {
    count: values.length,
    averageMs: round(total / values.length),
    minMs: Math.min(...values),
    maxMs: Math.max(...values),
  };
}

export function latencyStats(provider: string, values: readonly number[]): LatencyStats {
  const distribution = LATENCY_BUCKETS_MS.map((fromMs, i) => {
    const toMs = LATENCY_BUCKETS_MS[i + 1];
    return {
      fromMs,
      ...(toMs !== undefined ? { toMs } : {}),
      count: values.filter((v) => v >= fromMs && (toMs === undefined || v < toMs)).length,
    };
  });
  const totalMs = values.reduce((a, b) => a + b, 0);
  const s = summary(values);
  return {
    provider,
    count: s.count,
    averageMs: s.averageMs,
    totalMs,
    minMs: s.minMs,
    maxMs: s.maxMs,
    distribution,
  };
}

/** When the caller started speaking (epoch ms), from a user message's own metrics. */
function speechStartAt(m: ConversationMessage): number | undefined {
  const received = m.metrics.audio?.totalAudioReceivedMs;
  const start = m.metrics.stt?.startOffsetMs;
  if (received === undefined || start === undefined) return undefined;
  return m.timestamp - Math.max(0, received - start);
}

export function callStatistics(
  messages: readonly ConversationMessage[],
  providers: { stt?: string; llm?: string; tts?: string } = {},
): CallStatistics {
  const users = messages.filter((m) => m.role === 'user');
  const bots = messages.filter((m) => m.role === 'assistant');

  const responseTimes: number[] = [];
  const bargeIns: number[] = [];
  for (const [i, m] of messages.entries()) {
    const previous = messages[i - 1];
    if (m.role === 'assistant' && previous?.role === 'user')
      responseTimes.push(Math.max(0, m.timestamp - previous.timestamp));
    if (m.role === 'assistant' && m.interrupted) {
      const next = messages.slice(i + 1).find((n) => n.role === 'user');
      if (next) bargeIns.push(Math.max(0, round((speechStartAt(next) ?? next.timestamp) - m.timestamp)));
    }
  }

  const stt: number[] = [];
  const llm: number[] = [];
  const tts: number[] = [];
  for (const m of users) {
    const received = m.metrics.audio?.totalAudioReceivedMs;
    const end = m.metrics.stt?.endOffsetMs;
    if (received !== undefined && end !== undefined) stt.push(Math.max(0, received - end));
  }
  for (const m of bots) {
    const r = m.metrics.llm?.responseLatencyMs;
    if (r !== undefined) llm.push(r);
    const t = m.metrics.tts;
    if (t?.generationTimeMs !== undefined && !t.isCachePlaying) tts.push(t.generationTimeMs);
  }
  const latency: CallStatistics['latency'] = {};
  if (stt.length > 0) latency.stt = latencyStats(providers.stt ?? 'stt', stt);
  if (llm.length > 0) latency.llm = latencyStats(providers.llm ?? 'llm', llm);
  if (tts.length > 0) latency.tts = latencyStats(providers.tts ?? 'tts', tts);

  const delays = users
    .map((m) => m.metrics.audio?.audioDelayPerTurnMs)
    .filter((v): v is number => v !== undefined);
  const received = messages
    .map((m) => m.metrics.audio?.totalAudioReceivedMs ?? 0)
    .reduce((a, b) => Math.max(a, b), 0);

  return {
    turns: {
      user: users.length,
      bot: bots.length,
      interrupted: bots.filter((m) => m.interrupted).length,
      skipped: users.reduce((n, m) => n + (m.skippedAssistantMessages?.length ?? 0), 0),
    },
    botResponseTimeMs: { ...summary(responseTimes), values: responseTimes },
    bargeIn: {
      count: bargeIns.length,
      meanTimeMs: bargeIns.length ? round(bargeIns.reduce((a, b) => a + b, 0) / bargeIns.length) : 0,
      values: bargeIns,
    },
    latency,
    audio: {
      totalAudioReceivedMs: received,
      turnsWithAudio: delays.length,
      averageDelayMs: delays.length ? round(delays.reduce((a, b) => a + b, 0) / delays.length) : 0,
      maxDelayMs: delays.length ? Math.max(...delays) : 0,
      totalDelayedPackets: users.reduce((n, m) => n + (m.metrics.audio?.delayedPacketsPerTurnCount ?? 0), 0),
    },
  };
}
