import { describe, expect, it } from 'vitest';
import { CallOwnershipLost } from '../../src/engine/call-event-sink.js';
import { CallReporter, type CallStateView } from '../../src/engine/call-reporter.js';
import type { CallEventSink, RecordOptions } from '../../src/webhooks/call-event-sink.js';
import type { CallContext, EventSpec } from '../../src/webhooks/events/build-event.js';
import { callContext } from '../support/call-context.js';

/** A sink whose writes fail as the database would, as many times as planned. */
function flakySink(failures: unknown[]) {
  const stored: { status: string; types: string[] }[] = [];
  const calls: RecordOptions[] = [];
  let attempts = 0;
  const sink = {
    record: async (ctx: CallContext, events: readonly EventSpec[], options: RecordOptions = {}) => {
      attempts++;
      calls.push(options);
      const failure = failures.shift();
      if (failure) throw failure;
      stored.push({ status: ctx.call.status, types: events.map((e) => e.type) });
      return [];
    },
  } as unknown as CallEventSink;
  return { sink, stored, calls, attempts: () => attempts };
}

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('CallReporter: events held in memory until durable', () => {
  it('retries transient failures in order, with the state each event had', async () => {
    const ctx = callContext('team', {});
    const state: CallStateView = { ...ctx, call: { ...ctx.call, status: 'ongoing' } };
    const { sink, stored, calls, attempts } = flakySink([
      new Error('Connection terminated unexpectedly'),
      pgError('57014', 'canceling statement due to user request'),
      pgError('57P01', 'terminating connection due to administrator command'),
    ]);
    const retries: number[] = [];
    const reporter = new CallReporter(sink, () => state, undefined, {
      retryDelayMs: { firstMs: 1, maxMs: 4 },
      onRetry: (_e, attempt) => retries.push(attempt),
    });
    void reporter.record({ type: 'conversation-update' });
    state.call = { ...state.call, status: 'finished' };
    void reporter.record({ type: 'status-update' });
    await reporter.flushed();
    expect(stored).toEqual([
      { status: 'ongoing', types: ['conversation-update'] },
      { status: 'finished', types: ['status-update'] },
    ]);
    expect(retries).toEqual([1, 2, 3]);
    expect(attempts()).toBe(5);
    // Every attempt of one write carries the same event ids; the later ones say they are retries.
    const first = calls[0]?.eventIds;
    expect(first).toHaveLength(1);
    expect(calls.slice(0, 3).map((c) => [c.eventIds, c.retry])).toEqual([
      [first, false],
      [first, true],
      [first, true],
    ]);
    expect(calls[4]?.eventIds).not.toEqual(first);
    expect(reporter.failures).toEqual([]);
  });

  it('gives up only on errors a retry cannot fix, and stops for good once ownership is lost', async () => {
    const ctx = callContext('team', {});
    const { sink, stored } = flakySink([
      pgError('23505', 'duplicate key value violates unique constraint'),
      new CallOwnershipLost([ctx.call.id]),
    ]);
    let lost = 0;
    const reporter = new CallReporter(sink, () => ctx, undefined, {
      retryDelayMs: { firstMs: 1, maxMs: 1 },
      onOwnershipLost: () => lost++,
    });
    await reporter.record({ type: 'hang' });
    expect(reporter.failures).toHaveLength(1);
    await reporter.record({ type: 'status-update' });
    await reporter.record({ type: 'end-of-call-report', report: {} as never });
    expect(lost).toBe(1);
    expect(reporter.ownershipLost).toBe(true);
    expect(stored).toEqual([]);
  });
});
