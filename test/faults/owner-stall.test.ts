import { afterAll, describe, expect, it } from 'vitest';
import {
  alive,
  apiOf,
  eventsOf,
  expectCallComplete,
  needsPostgres,
  scriptedAssistant,
  skipReason,
  startTwoServers,
  TextCall,
  until,
} from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe.skipIf(needsPostgres)(`an owner stalled past the recovery window (${skipReason})`, () => {
  it('is fenced: the other server finishes the call once; the stalled one, resumed, writes nothing', async () => {
    // Heartbeat 300 ms: a call whose owner is silent for 1.2 s is finished by another server.
    const { database, receiver, a, b } = await startTwoServers(300, cleanups);
    cleanups.push(() => a.stop('SIGKILL'));
    cleanups.push(() => b.stop());
    const assistant = await apiOf(a.url, 'POST', '/v1/assistants', scriptedAssistant(receiver.url));
    const calls = await Promise.all([0, 1].map(() => TextCall.start(a, assistant.json._id as string)));
    await receiver.waitFor(
      () => calls.every((c) => eventsOf(receiver, c.id).some((m) => m.type === 'conversation-update')),
      10_000,
      'the welcomes',
    );

    // A stalls (as in a long GC pause, a VM pause, CPU starvation): B finishes its calls.
    a.child.kill('SIGSTOP');
    cleanups.push(async () => {
      a.child.kill('SIGCONT');
    });
    await receiver.waitFor(
      () => calls.every((c) => eventsOf(receiver, c.id).some((m) => m.type === 'end-of-call-report')),
      10_000,
      'the reports sent by the other server',
    );
    // The callers still talk to A, and one hangs up; A sees it all when it resumes.
    calls[0]?.send({ type: 'user-text', text: 'yes' });
    calls[1]?.send({ type: 'end' });
    a.child.kill('SIGCONT');

    await Promise.all(calls.map((c) => c.waitFor(() => c.closed !== undefined, 10_000, 'close')));
    // A notices it lost each call (its heartbeat or a fenced write) and drops it.
    await until(
      () => calls.every((c) => a.lines.some((l) => l.includes(c.id) && l.includes('without further events'))),
      10_000,
      "A's sessions stopped",
    );
    for (const call of calls) {
      await expectCallComplete(receiver, database.db, call.id);
      const terminal = eventsOf(receiver, call.id).find(
        (m) => m.type === 'status-update' && m.call.status === 'finished',
      );
      expect(terminal.call).toMatchObject({
        callEndTriggerBy: 'system',
        phoneCallStatus: 'ended-with-error',
      });
      expect((await apiOf(a.url, 'GET', `/v1/calls/${call.id}`)).json.status).toBe('finished');
    }
    expect(alive(a) && alive(b)).toBe(true);
    expect(receiver.schemaErrors).toEqual([]);
  });
});
