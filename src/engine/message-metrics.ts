/**
 * Seed-001 metrics of one message, each from a measured timestamp; groups that do not apply
 * (no audio on a text call, no LLM for a fixed message) are left out.
 */
import type { MessageMetrics } from '../contract/conversation-schema.js';
import type { SttFinal } from './user-input.js';
import type { Utterance } from './utterance.js';

const round = (ms: number) => Math.max(0, Math.round(ms));

export function userMessageMetrics(input: {
  timeline: MessageMetrics['timeline'];
  audio?: { totalAudioReceivedMs: number; audioDelayPerTurnMs: number; delayedPacketsPerTurnCount: number };
  stt?: { final: SttFinal; vadMs: number };
}): MessageMetrics {
  const metrics: MessageMetrics = { timeline: input.timeline };
  if (input.audio) {
    metrics.audio = {
      totalAudioReceivedMs: round(input.audio.totalAudioReceivedMs),
      audioDelayPerTurnMs: round(input.audio.audioDelayPerTurnMs),
      delayedPacketsPerTurnCount: input.audio.delayedPacketsPerTurnCount,
    };
  }
  if (input.stt) {
    const f = input.stt.final;
    metrics.stt = {
      timestampMs: round(f.timestampMs),
      startOffsetMs: round(f.startOffsetMs),
      endOffsetMs: round(f.endOffsetMs),
      ...(f.confidence !== undefined ? { confidence: Math.min(1, Math.max(0, f.confidence)) } : {}),
      vadMs: round(input.stt.vadMs),
    };
  }
  return metrics;
}

export function assistantMessageMetrics(input: {
  u: Utterance;
  timeline: MessageMetrics['timeline'];
  totalAudioReceivedMs?: number;
  audioOutput: boolean;
}): MessageMetrics {
  const { u } = input;
  const metrics: MessageMetrics = { timeline: input.timeline };
  if (input.totalAudioReceivedMs !== undefined) {
    metrics.audio = { totalAudioReceivedMs: round(input.totalAudioReceivedMs) };
  }
  if (input.audioOutput && u.sentences.length > 0) {
    metrics.tts = {
      audioDurationMs: round(u.audioMs),
      generationTimeMs: round(u.ttsGenerationMs),
      ...(u.ttsQueueLatencyMs !== undefined ? { queueLatencyMs: round(u.ttsQueueLatencyMs) } : {}),
      isCachePlaying: u.cachedSentences === u.sentences.length,
    };
  }
  const llm = u.meta.llm;
  metrics.llm = llm
    ? { responseLatencyMs: round(llm.responseLatencyMs), queueLatencyMs: round(llm.queueLatencyMs) }
    : {};
  return metrics;
}
