import { describe, expect, it } from 'vitest';
import type { EventMessage } from '../../src/contract/event-schemas.js';
import type { CallCost } from '../../src/cost/call-cost.js';
import type { CallStatistics } from '../../src/engine/call-statistics.js';
import { demoAssistant, demoDialog } from '../../src/engine/demo-assistant.js';
import { ScriptedLlm } from '../../src/llm/scripted/scripted-llm.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { RecordingSink } from '../../src/testing/recording-sink.js';
import { schemaErrors, speak, startSession } from './helpers.js';

function reportOf(events: readonly { type: string }[]): EventMessage<'end-of-call-report'> {
  const last = events.at(-1);
  expect(last?.type).toBe('end-of-call-report');
  return last as EventMessage<'end-of-call-report'>;
}

/** The lines of a cost add up to its vendor sums and to its total. */
function expectCostAddsUp(cost: CallCost) {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  expect(sum(cost.breakdown.map((l) => l.costUsd))).toBeCloseTo(cost.total, 8);
  expect(sum(Object.values(cost.vendors))).toBeCloseTo(cost.total, 8);
  for (const [vendor, usd] of Object.entries(cost.vendors))
    expect(sum(cost.breakdown.filter((l) => l.vendor === vendor).map((l) => l.costUsd))).toBeCloseTo(usd, 8);
}

describe('end-of-call report: analysis, cost, statistics', () => {
  it('demo text call (scripted, offline): summary, pass, structured data, zero cost, statistics', async () => {
    const clock = new ManualClock();
    const sink = new RecordingSink(
      (call) => ({ ok: true, result: { booked: true, ...call.function.arguments } }),
      () => clock.now(),
    );
    const providers = fakeProviders({ clock, llm: new ScriptedLlm(demoDialog) });
    const h = startSession({ clock, providers, sink, assistant: demoAssistant() });
    h.transport.hello({ audioOutput: false });
    for (const say of ['yes', 'wednesday', 'eleven', 'yes']) {
      const before = h.session.messages.length;
      await clock.until(() => h.session.turnState === 'listening' && h.session.messages.length > 0);
      h.transport.userText(say);
      await clock.until(() => h.session.messages.length > before + 1);
    }
    const call = await h.session.done;
    const report = reportOf(h.sink.forCall(call.id));
    expect(report.type).toBe('end-of-call-report');
    expect(schemaErrors(h.sink.forCall(call.id))).toEqual([]);
    expect(report.analysis).toEqual({
      summary: expect.stringContaining('day wednesday, time eleven'),
      successEvaluation: true,
      structuredData: { day: 'wednesday', time: 'eleven' },
    });
    expect(report.summary).toBe(report.analysis.summary);
    expect(report.call.analysis).toEqual(report.analysis);
    const cost = report.call.cost as unknown as CallCost;
    expect(cost.total).toBe(0);
    expect(cost.breakdown.map((l) => `${l.kind}:${l.vendor}`)).toContain('llm:scripted');
    expect(cost.breakdown.every((l) => l.priced)).toBe(true);
    expectCostAddsUp(cost);
    const metrics = report.call.metrics as unknown as CallStatistics;
    const messages = report.messages;
    expect(metrics.turns).toEqual({
      user: 4,
      bot: messages.filter((m) => m.role === 'assistant').length,
      interrupted: 0,
      skipped: 0,
    });
    expect(metrics.botResponseTimeMs.count).toBe(4);
  });

  it('a declined booking is evaluated as failed on every rubric', async () => {
    for (const [rubric, expected] of [
      ['pass-fail', false],
      ['numeric-1-10', 1],
      ['descriptive-scale', 'Terrible'],
    ] as const) {
      const clock = new ManualClock();
      const providers = fakeProviders({ clock, llm: new ScriptedLlm(demoDialog) });
      const demo = demoAssistant();
      const h = startSession({
        clock,
        providers,
        assistant: {
          ...demo,
          assistantAnalysis: { ...demo.assistantAnalysis, successEvaluation: { enabled: true, rubric } },
        },
      });
      h.transport.hello({ audioOutput: false });
      await clock.until(() => h.session.messages.length > 0);
      h.transport.userText('no thanks');
      const call = await h.session.done;
      const report = reportOf(h.sink.forCall(call.id));
      expect(report.analysis.successEvaluation).toBe(expected);
      // Nothing was booked: no day or time, which the schema allows; no analysis error.
      expect(report.analysis.error).toBeUndefined();
      expect(report.analysis.structuredData ?? {}).toEqual({});
    }
  });

  it('LLM analysis: structured data that breaks the schema is retried once, then reported as failed; the report still goes out', async () => {
    const clock = new ManualClock();
    const structuredRequests: string[] = [];
    const llm = new FakeLlm({
      clock,
      respond: (messages) => {
        const system = messages[0]?.role === 'system' ? messages[0].content : '';
        if (system.includes('data extractor')) {
          structuredRequests.push(messages.at(-1)?.content ?? '');
          return '{"day": 5}';
        }
        if (system.includes('call evaluator')) return 'true';
        if (system.includes('note-taker')) return 'The caller asked for a table; it was booked.';
        return 'Sure, booked. Goodbye!';
      },
    });
    const providers = fakeProviders({ clock, llm });
    const h = {
      ...startSession({
        clock,
        providers,
        assistant: {
          welcomeMessage: 'Hello!',
          assistantAnalysis: {
            summary: { enabled: true },
            successEvaluation: { enabled: true, rubric: 'pass-fail', prompt: 'A table was booked.' },
            structuredData: {
              enabled: true,
              schema: {
                type: 'object',
                properties: { day: { type: 'string' } },
                required: ['day'],
              },
            },
          },
        },
      }),
      clock,
    };
    h.transport.hello();
    await clock.until(() => h.session.messages.length === 1);
    providers.fakeStt.willHear('a table please');
    await speak(h, 1000);
    await clock.until(() => h.transport.closed !== undefined);
    let done = false;
    void h.session.done.then(() => {
      done = true;
    });
    await clock.until(() => done);
    const call = await h.session.done;
    const events = h.sink.forCall(call.id);
    expect(h.types().slice(-2)).toEqual(['status-update', 'end-of-call-report']);
    expect(schemaErrors(events)).toEqual([]);
    const report = reportOf(events);
    expect(structuredRequests).toHaveLength(2);
    expect(structuredRequests[1]).toMatch(/^That reply is invalid: data\/day must be string/);
    expect(report.analysis.structuredData).toBeUndefined();
    expect(report.analysis.error).toMatch(
      /^structuredData: invalid after one retry: data\/day must be string/,
    );
    expect(report.analysis.summary).toBe('The caller asked for a table; it was booked.');
    expect(report.analysis.successEvaluation).toBe(true);
    // Cost: the reply and the analysis are both metered (fake LLM usage on gpt-4o-mini prices).
    const cost = report.call.cost as unknown as CallCost;
    const kinds = cost.breakdown.filter((l) => l.quantity > 0).map((l) => `${l.kind}:${l.unit}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'llm:input-token',
        'llm:output-token',
        'analysis:input-token',
        'tts:character',
        'stt:audio-minute',
      ]),
    );
    expect(cost.kinds.llm).toBeGreaterThan(0);
    expect(cost.kinds.analysis).toBeGreaterThan(0);
    expectCostAddsUp(cost);
    // Statistics agree with the messages.
    const metrics = report.call.metrics as unknown as CallStatistics;
    const messages = report.messages;
    expect(metrics.turns.user).toBe(messages.filter((m) => m.role === 'user').length);
    expect(metrics.turns.bot).toBe(messages.filter((m) => m.role === 'assistant').length);
    const llmLatencies = messages
      .map((m) => m.metrics.llm?.responseLatencyMs)
      .filter((v): v is number => v !== undefined);
    expect(metrics.latency.llm?.count).toBe(llmLatencies.length);
    expect(metrics.latency.llm?.totalMs).toBe(llmLatencies.reduce((a, b) => a + b, 0));
    expect(metrics.latency.llm?.distribution.reduce((n, b) => n + b.count, 0)).toBe(llmLatencies.length);
    expect(metrics.botResponseTimeMs.count).toBe(1);
  });

  it('an analysis that times out still lets the report go out, saying so', async () => {
    const clock = new ManualClock();
    const llm = new FakeLlm({ clock, firstTokenMs: 60_000, respond: () => 'never in time' });
    const providers = fakeProviders({ clock, llm });
    const h = startSession({
      clock,
      providers,
      assistant: {
        welcomeMessage: 'Hello!',
        assistantAnalysis: { summary: { enabled: true, provider: 'openai', timeoutMs: 500 } },
      },
    });
    h.transport.hello({ audioOutput: false });
    await clock.until(() => h.session.messages.length === 1);
    void h.session.end({ trigger: 'system', reason: 'Test over' });
    let done = false;
    void h.session.done.then(() => {
      done = true;
    });
    await clock.until(() => done);
    const call = await h.session.done;
    const report = reportOf(h.sink.forCall(call.id));
    expect(report.type).toBe('end-of-call-report');
    expect(report.analysis.error).toBe('summary: timed out after 500 ms (template summary used)');
    expect(report.analysis.summary).toMatch(/^Call with test: /);
  });
});
