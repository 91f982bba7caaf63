import { describe, expect, it } from 'vitest';
import { analyzeCall } from '../../src/analysis/analysis.js';
import { fromScore, parseEvaluation } from '../../src/analysis/rubrics.js';
import { withDefaults } from '../../src/assistants/assistant-defaults.js';
import type { AssistantCreate } from '../../src/contract/assistant-schema.js';
import type { ConversationMessage } from '../../src/contract/conversation-schema.js';
import { callCost } from '../../src/cost/call-cost.js';
import { defaultPrices, mergePrices, pricesFromEnv } from '../../src/cost/prices.js';
import { UsageMeter } from '../../src/cost/usage.js';
import { newWebCall } from '../../src/engine/call-lifecycle.js';
import { callStatistics, LATENCY_BUCKETS_MS } from '../../src/engine/call-statistics.js';
import { FakeLlm } from '../../src/testing/fake-providers.js';

const messages: ConversationMessage[] = [
  { messageId: 'welcome-1', role: 'assistant', text: 'Hello!', timestamp: 1000, metrics: { llm: {} } },
  {
    messageId: 'user-1',
    role: 'user',
    text: 'Book me for friday at ten.',
    timestamp: 5000,
    metrics: {
      audio: { totalAudioReceivedMs: 4000, audioDelayPerTurnMs: 30, delayedPacketsPerTurnCount: 1 },
      stt: { timestampMs: 5000, startOffsetMs: 2000, endOffsetMs: 3600, vadMs: 1600 },
    },
  },
  {
    messageId: 'user-1-a-1',
    role: 'assistant',
    text: 'Friday at ten is',
    timestamp: 5750,
    interrupted: true,
    metrics: {
      llm: { responseLatencyMs: 450, queueLatencyMs: 0 },
      tts: { audioDurationMs: 900, generationTimeMs: 120, isCachePlaying: false },
    },
  },
  {
    messageId: 'user-2',
    role: 'user',
    text: 'Actually, eleven.',
    timestamp: 7000,
    skippedAssistantMessages: [{ messageId: 'user-1-b-2', text: 'Anything else?', timestamp: 6500 }],
    metrics: {
      audio: { totalAudioReceivedMs: 6000, audioDelayPerTurnMs: 10, delayedPacketsPerTurnCount: 0 },
      stt: { timestampMs: 7000, startOffsetMs: 5000, endOffsetMs: 5700, vadMs: 700 },
    },
  },
  {
    messageId: 'user-2-c-3',
    role: 'assistant',
    text: 'Eleven it is.',
    timestamp: 8100,
    metrics: {
      llm: { responseLatencyMs: 1100, queueLatencyMs: 0 },
      tts: { audioDurationMs: 800, generationTimeMs: 0, isCachePlaying: true },
    },
  },
];

function assistant(input: Partial<AssistantCreate> = {}) {
  return withDefaults({ name: 'Clinic', ...input });
}
const call = { ...newWebCall({ id: 'WC-1', teamId: 't', assistantId: 'a', userNumber: 'web-x', now: 0 }) };

describe('call statistics', () => {
  it('turns, response times, barge-in, latency buckets and audio delay, from the messages', () => {
    const s = callStatistics(messages, { llm: 'openai', stt: 'deepgram', tts: 'elevenlabs' });
    expect(s.turns).toEqual({ user: 2, bot: 3, interrupted: 1, skipped: 1 });
    expect(s.botResponseTimeMs).toEqual({
      count: 2,
      averageMs: 925,
      minMs: 750,
      maxMs: 1100,
      values: [750, 1100],
    });
    // The caller started speaking at 7000 - (6000 - 5000) = 6000, 250 ms into the 5750 message.
    expect(s.bargeIn).toEqual({ count: 1, meanTimeMs: 250, values: [250] });
    expect(s.latency.llm).toMatchObject({ provider: 'openai', count: 2, averageMs: 775, totalMs: 1550 });
    expect(s.latency.llm?.distribution.map((b) => b.fromMs)).toEqual([...LATENCY_BUCKETS_MS]);
    expect(s.latency.llm?.distribution.filter((b) => b.count > 0)).toEqual([
      { fromMs: 300, toMs: 600, count: 1 },
      { fromMs: 1000, toMs: 3000, count: 1 },
    ]);
    expect(s.latency.llm?.distribution.at(-1)).toEqual({ fromMs: 10000, count: 0 });
    // STT: audio received after the end of speech (4000 - 3600, 6000 - 5700).
    expect(s.latency.stt).toMatchObject({
      provider: 'deepgram',
      count: 2,
      totalMs: 700,
      minMs: 300,
      maxMs: 400,
    });
    // TTS: the cache hit is not provider latency.
    expect(s.latency.tts).toMatchObject({ provider: 'elevenlabs', count: 1, totalMs: 120 });
    expect(s.audio).toEqual({
      totalAudioReceivedMs: 6000,
      turnsWithAudio: 2,
      averageDelayMs: 20,
      maxDelayMs: 30,
      totalDelayedPackets: 1,
    });
  });

  it('a call without messages has zero statistics and no latency groups', () => {
    const s = callStatistics([]);
    expect(s.turns).toEqual({ user: 0, bot: 0, interrupted: 0, skipped: 0 });
    expect(s.latency).toEqual({});
    expect(s.bargeIn.count).toBe(0);
  });
});

describe('cost', () => {
  it('prices every metered line; lines add up to vendors and to the total', () => {
    const meter = new UsageMeter();
    meter.setAudioMs('stt', 'deepgram', 90_000);
    meter.addTokens('llm', 'openai', 'gpt-4o-mini', 12_000, 800);
    meter.addTokens('llm', 'openai', 'gpt-4o-mini', 3_000, 200);
    meter.addTokens('analysis', 'openai', 'gpt-4o', 1_000, 100);
    meter.addCharacters('elevenlabs', 1_000);
    meter.setAudioMs('telephony', 'twilio', 120_000);
    meter.addCharacters('my-tts', 50);
    const cost = callCost(meter.usage, mergePrices());
    expect(cost.vendors.deepgram).toBeCloseTo(1.5 * 0.0043, 10);
    expect(cost.vendors.openai).toBeCloseTo(
      15_000 * 0.15e-6 + 1000 * 0.6e-6 + 1000 * 2.5e-6 + 100 * 10e-6,
      10,
    );
    expect(cost.vendors.elevenlabs).toBeCloseTo(0.18, 10);
    expect(cost.vendors.twilio).toBeCloseTo(2 * 0.0085, 10);
    expect(cost.kinds.analysis).toBeCloseTo(1000 * 2.5e-6 + 100 * 10e-6, 10);
    const unpriced = cost.breakdown.find((l) => l.vendor === 'my-tts');
    expect(unpriced).toMatchObject({ priced: false, costUsd: 0, quantity: 50 });
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(cost.breakdown.map((l) => l.costUsd))).toBeCloseTo(cost.total, 8);
    expect(sum(Object.values(cost.vendors))).toBeCloseTo(cost.total, 8);
    expect(sum(Object.values(cost.kinds))).toBeCloseTo(cost.total, 8);
  });

  it('local providers cost nothing; PARLEY_PRICES overrides the defaults', () => {
    expect(defaultPrices.stt.pocketsphinx.perMinute).toBe(0);
    expect(defaultPrices.tts.flite.perMillionChars).toBe(0);
    expect(defaultPrices.llm.scripted['*']).toEqual({ inputPerMTok: 0, outputPerMTok: 0 });
    expect(defaultPrices.telephony.web.perMinute).toBe(0);
    const prices = pricesFromEnv({
      PARLEY_PRICES: JSON.stringify({
        stt: { pocketsphinx: { perMinute: 0.001 } },
        llm: { openai: { 'my-model': { inputPerMTok: 1, outputPerMTok: 2 } } },
      }),
    });
    expect(prices.stt.pocketsphinx?.perMinute).toBe(0.001);
    expect(prices.llm.openai?.['my-model']).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });
    expect(prices.llm.openai?.['gpt-4o']).toEqual({ inputPerMTok: 2.5, outputPerMTok: 10 });
    expect(() => pricesFromEnv({ PARLEY_PRICES: '{' })).toThrow(/PARLEY_PRICES/);
  });
});

describe('rubrics', () => {
  it('reads answers and maps outcomes on each rubric', () => {
    expect(parseEvaluation('pass-fail', 'True.')).toBe(true);
    expect(parseEvaluation('pass-fail', 'fail')).toBe(false);
    expect(parseEvaluation('pass-fail', 'maybe')).toBeUndefined();
    expect(parseEvaluation('numeric-1-10', 'Score: 7/10')).toBe(7);
    expect(parseEvaluation('numeric-1-10', '10')).toBe(10);
    expect(parseEvaluation('numeric-1-10', 'eleven')).toBeUndefined();
    expect(parseEvaluation('descriptive-scale', 'I would say good.')).toBe('Good');
    expect(fromScore('numeric-1-10', 1)).toBe(10);
    expect(fromScore('descriptive-scale', 1)).toBe('Excellent');
    expect(fromScore('pass-fail', 0.8)).toBe(false);
  });
});

describe('analysis through an LLM', () => {
  const llmFor = (respond: (system: string) => string) => {
    const llm = new FakeLlm({
      firstTokenMs: 1,
      tokenMs: 0,
      respond: (m) => respond(m[0]?.role === 'system' ? m[0].content : ''),
    });
    return { llm, resolve: (_provider: string, _model: string) => llm };
  };

  it('summary, numeric and descriptive rubrics, structured data valid on the first try', async () => {
    for (const [rubric, answer, expected] of [
      ['numeric-1-10', '8', 8],
      ['descriptive-scale', 'Excellent', 'Excellent'],
    ] as const) {
      const { llm, resolve } = llmFor((system) =>
        system.includes('note-taker')
          ? 'Booked for Friday at eleven.'
          : system.includes('evaluator')
            ? answer
            : '```json\n{"day": "friday", "time": "eleven"}\n```',
      );
      const analysis = await analyzeCall({
        assistant: assistant({
          assistantProvider: 'openai',
          assistantAnalysis: {
            summary: { enabled: true, model: 'gpt-4o' },
            successEvaluation: { enabled: true, rubric, prompt: 'A booking was made.' },
            structuredData: {
              enabled: true,
              schema: {
                type: 'object',
                properties: { day: { type: 'string' }, time: { type: 'string' } },
                required: ['day'],
              },
            },
          },
        }),
        call,
        messages,
        llm: resolve,
      });
      expect(analysis).toEqual({
        summary: 'Booked for Friday at eleven.',
        successEvaluation: expected,
        structuredData: { day: 'friday', time: 'eleven' },
      });
      const models = llm.requests.map((r) => r.model);
      expect(models.filter((m) => m === 'gpt-4o')).toHaveLength(1);
      const evaluation = llm.requests.find((r) => (r.messages[0]?.content ?? '').includes('evaluator'));
      expect(evaluation?.messages[0]?.content).toContain('Success criterion: A booking was made.');
      expect(evaluation?.messages[1]?.content).toContain('Caller: Book me for friday at ten.');
    }
  });

  it('a provider this deployment lacks: the summary falls back to the template, the other parts say why', async () => {
    const analysis = await analyzeCall({
      assistant: assistant({
        assistantProvider: 'anthropic',
        assistantAnalysis: {
          summary: {
            enabled: true,
            template: '{{assistantName}} call, {{userTurns}} replies: {{endedReason}}',
          },
          successEvaluation: { enabled: true },
        },
      }),
      call: { ...call, phoneCallStatusReason: 'Customer hung up' },
      messages,
      llm: (provider) => {
        throw new Error(`${provider}: not available`);
      },
    });
    expect(analysis.summary).toBe('Clinic call, 2 replies: Customer hung up');
    expect(analysis.successEvaluation).toBeUndefined();
    expect(analysis.error).toBe(
      'summary: anthropic: not available (template summary used); successEvaluation: anthropic: not available',
    );
  });
});
