import { describe, expect, it } from 'vitest';
import { CallService } from '../../src/calls/call-service.js';
import type { Db } from '../../src/db/database.js';
import { Pacer } from '../../src/engine/pacer.js';
import { ApiError } from '../../src/shared/api-error.js';
import { fakeProviders } from '../../src/testing/fake-providers.js';
import { FakeTransport } from '../../src/testing/fake-transport.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { RecordingSink } from '../../src/testing/recording-sink.js';

function service(clock: ManualClock, sink = new RecordingSink(undefined, () => clock.now())) {
  const calls = new CallService({
    db: undefined as unknown as Db,
    insertCall: async () => {},
    sink,
    providers: fakeProviders({ clock }),
    publicUrl: 'https://parley.example.com/',
    clock,
    pacer: new Pacer(clock),
    joinTokenTtlMs: 30_000,
  });
  return { calls, sink };
}

describe('call service', () => {
  it('creates a web call with a join URL; a call nobody joins ends as no-answer with its terminal events', async () => {
    const clock = new ManualClock();
    const { calls, sink } = service(clock);
    const { call, join } = await calls.createWebCall('team1', {
      assistant: { name: 'inline' },
      metadata: { order: 7 },
      customer: { name: 'ada' },
    });
    expect(call).toMatchObject({
      status: 'queued',
      userNumber: 'web-ada',
      metadata: { order: 7 },
      assistantId: '',
    });
    expect(join.url).toBe(`wss://parley.example.com/v1/calls/${call.id}/ws?token=${join.token}`);
    expect(calls.liveCalls).toBe(1);
    const session = calls.session(call.id);
    await clock.advance(30_000);
    expect((await session?.done)?.phoneCallStatusReason).toBe('Nobody joined the call');
    expect(sink.types(call.id)).toEqual(['status-update', 'status-update', 'end-of-call-report']);
    const last = sink.forCall(call.id).at(-1);
    expect(last?.call).toMatchObject({
      status: 'finished',
      phoneCallStatus: 'no-answer',
      callEndTriggerBy: 'system',
    });
    expect(calls.liveCalls).toBe(0);
    expect((await calls.join(call.id, join.token)).ok).toBe(false);
  });

  it('join tokens are single use and bound to their call; overrides and dialogs are validated', async () => {
    const clock = new ManualClock();
    const { calls } = service(clock);
    const a = await calls.createWebCall('team1', { assistant: { name: 'a' } });
    const b = await calls.createWebCall('team1', { assistant: { name: 'b' } });
    expect(await calls.join(a.call.id, b.join.token)).toMatchObject({ ok: false, code: 'bad_token' });
    const joined = await calls.join(a.call.id, a.join.token);
    expect(joined.ok).toBe(true);
    if (joined.ok) joined.session.attach(new FakeTransport(clock));
    expect(await calls.join(a.call.id, a.join.token)).toMatchObject({ ok: false, code: 'bad_token' });

    const overridden = await calls.createWebCall('team1', {
      assistant: { name: 'c' },
      assistantOverrides: { welcomeMessage: 'Hi Ada!', variableValues: { name: 'Ada' } },
    });
    expect(overridden.call.assistantOverrides).toEqual({
      welcomeMessage: 'Hi Ada!',
      variableValues: { name: 'Ada' },
    });
    await expect(
      calls.createWebCall('team1', {
        assistant: { name: 'd' },
        assistantOverrides: { maxDurationSeconds: 1 },
      }),
    ).rejects.toMatchObject({ statusCode: 400, field: 'assistantOverrides.maxDurationSeconds' });
    await expect(
      calls.createWebCall('team1', { assistant: { name: 'e', assistantProvider: 'scripted' } }),
    ).rejects.toBeInstanceOf(ApiError);
    await expect(
      calls.createWebCall('team1', {
        assistant: { name: 'f', assistantProvider: 'scripted', dialog: { start: 'x', nodes: {} } },
      }),
    ).rejects.toMatchObject({ statusCode: 400, field: 'dialog.start' });
    // Without an assistant the team's server is asked (test/calls/assistant-request.test.ts covers it).
    await calls.close();
    expect(calls.liveCalls).toBe(0);
  });
});
