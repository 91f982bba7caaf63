import { describe, expect, it } from 'vitest';
import { CallService } from '../../src/calls/call-service.js';
import type { Db } from '../../src/db/database.js';
import { Pacer } from '../../src/engine/pacer.js';
import { ApiError } from '../../src/shared/api-error.js';
import { fakeProviders } from '../../src/testing/fake-providers.js';
import { FakeTransport } from '../../src/testing/fake-transport.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { RecordingSink } from '../../src/testing/recording-sink.js';

/** `CallService.drain` in virtual time: no admission, live calls waited for up to the limit. */
function service(clock: ManualClock) {
  const sink = new RecordingSink(undefined, () => clock.now());
  const calls = new CallService({
    db: undefined as unknown as Db,
    insertCall: async () => {},
    sink,
    providers: fakeProviders({ clock }),
    publicUrl: 'https://parley.example.com/',
    clock,
    pacer: new Pacer(clock),
  });
  return { calls, sink };
}

async function liveCall(calls: CallService, clock: ManualClock) {
  const { call, join } = await calls.createWebCall('team1', {
    assistant: { name: 'drain', idleTimeoutSeconds: 600 },
  });
  const joined = await calls.join(call.id, join.token);
  if (!joined.ok) throw new Error(joined.reason);
  const transport = new FakeTransport(clock);
  joined.session.attach(transport);
  transport.hello();
  await clock.advance(100);
  expect(joined.session.call.status).toBe('ongoing');
  return { session: joined.session, transport };
}

/** Ending a call plays out in virtual time: the clock moves until `p` settles. */
async function inVirtualTime<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  const tracked = p.finally(() => {
    done = true;
  });
  for (let i = 0; i < 100 && !done; i++) await clock.advance(100);
  return tracked;
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('CallService.drain', () => {
  it('refuses new calls at once (503, Retry-After), resolves when the last live call ends', async () => {
    const clock = new ManualClock();
    const { calls } = service(clock);
    const { session } = await liveCall(calls, clock);
    expect(calls.draining).toBe(false);
    const drained = calls.drain(30_000);
    expect(calls.draining).toBe(true);
    const refused = await calls.createWebCall('team1', { assistant: { name: 'late' } }).catch((e) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ statusCode: 503, code: 'draining', retryAfterSeconds: 1 });
    await clock.advance(5_000);
    expect(await settled(drained)).toBe(false);
    await inVirtualTime(clock, session.end({ trigger: 'user', reason: 'Customer hung up' }));
    await drained;
    expect(calls.liveCalls).toBe(0);
    expect(session.call.callEndTriggerBy).toBe('user');
    await inVirtualTime(clock, calls.close());
  });

  it('stops waiting at the limit; close then ends the rest "Server shutting down" with their terminal events', async () => {
    const clock = new ManualClock();
    const { calls, sink } = service(clock);
    const { session } = await liveCall(calls, clock);
    const drained = calls.drain(10_000);
    await clock.advance(9_000);
    expect(await settled(drained)).toBe(false);
    await clock.advance(1_500);
    await drained;
    expect(calls.liveCalls).toBe(1);
    await inVirtualTime(clock, calls.close());
    expect(calls.liveCalls).toBe(0);
    expect(session.call).toMatchObject({
      status: 'finished',
      callEndTriggerBy: 'system',
      phoneCallStatusReason: 'Server shutting down',
    });
    const types = sink.types(session.id);
    expect(types.filter((t) => t === 'end-of-call-report')).toHaveLength(1);
  });

  it('a second signal (abort) cuts the wait short', async () => {
    const clock = new ManualClock();
    const { calls } = service(clock);
    await liveCall(calls, clock);
    const hurry = new AbortController();
    const drained = calls.drain(60_000, hurry.signal);
    expect(await settled(drained)).toBe(false);
    hurry.abort();
    await drained;
    expect(calls.liveCalls).toBe(1);
    await inVirtualTime(clock, calls.close());
    expect(calls.liveCalls).toBe(0);
  });
});
