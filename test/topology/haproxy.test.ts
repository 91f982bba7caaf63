/**
 * Three `parley serve` processes behind HAProxy with deploy/haproxy.cfg (README "Several
 * servers"): web calls created, joined, talked to and ended through the balancer, each landing
 * on whichever server it lands on, with exactly one terminal status-update and one report each;
 * a server drained (SIGTERM) meanwhile leaves the rotation on its 503 while its calls talk on.
 */
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { apiOf, expectCallComplete, scriptedAssistant, TextCall, until } from '../faults/support.js';
import { healthVia, ownersOf, startTopology, topologySkip } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe.skipIf(topologySkip !== '')(`three servers behind HAProxy ${topologySkip}`, () => {
  it('balances the API and web calls over three servers that migrated one empty database at once', async () => {
    // An empty database: the three servers migrate it at start, concurrently, as compose starts them.
    const { database, receiver, balancer, servers, instances } = await startTopology({
      heartbeatMs: 1000,
      cleanups,
      fresh: true,
    });
    const lb = balancer.url;

    // Health checks pass on all three: requests through the balancer reach each of them.
    const answeredBy = new Set<string>();
    await until(
      async () => {
        const res = await healthVia(lb);
        expect(res.status).toBe(200);
        answeredBy.add(res.server);
        return answeredBy.size === 3;
      },
      10_000,
      'health answers from all three servers',
    );
    expect([...answeredBy].sort()).toEqual(['parley1', 'parley2', 'parley3']);

    const assistant = await apiOf(lb, 'POST', '/v1/assistants', {
      ...scriptedAssistant(receiver.url),
      // Calls wait through the faults without the idle reprompt ending them.
      idleTimeoutSeconds: 600,
    });
    expect(assistant.status, JSON.stringify(assistant.json)).toBe(201);
    // A write on one server is read through the others.
    for (let i = 0; i < 3; i++) {
      const read = await apiOf(lb, 'GET', `/v1/assistants/${assistant.json._id}`);
      expect(read.status).toBe(200);
    }

    // Six calls, created and joined through the balancer (the join URL is the balancer's).
    const calls: TextCall[] = [];
    for (let i = 0; i < 6; i++) calls.push(await TextCall.startVia(lb, assistant.json._id as string));
    for (const call of calls) expect(call.ws.url.startsWith(lb.replace('http', 'ws'))).toBe(true);
    const owners = await ownersOf(
      database.db,
      calls.map((c) => c.id),
    );
    const ids = await instances();
    // Each call runs on the server its WebSocket reached; leastconn spread them over all three.
    expect(new Set(owners.values())).toEqual(new Set(ids));

    // Talk: every call's reply comes back through the balancer's tunnel.
    for (const call of calls) call.send({ type: 'user-text', text: 'yes' });
    for (const call of calls) await call.waitFor(() => call.texts.length > 1, 10_000, 'a reply');

    // Drain: SIGTERM a server that runs calls. Its /health answers 503, so the balancer takes
    // it out of rotation; new calls go to the others, and its own calls talk on through the
    // balancer until they end.
    const drainedIndex = ids.findIndex((id) => [...owners.values()].includes(id));
    const drainedName = `parley${drainedIndex + 1}`;
    const drained = servers[drainedIndex];
    if (!drained) throw new Error('no server to drain');
    const onDrained = calls.filter((c) => owners.get(c.id) === ids[drainedIndex]);
    const mark = balancer.lines.length;
    const exited = once(drained.child, 'exit');
    drained.child.kill('SIGTERM');
    expect(await balancer.waitForLine(new RegExp(`${drainedName} is DOWN`), 15_000, mark)).toMatch(/503/);
    for (let i = 0; i < 6; i++) expect((await healthVia(lb)).server).not.toBe(drainedName);
    const late = await TextCall.startVia(lb, assistant.json._id as string);
    expect((await ownersOf(database.db, [late.id])).get(late.id)).not.toBe(ids[drainedIndex]);
    calls.push(late);
    for (const call of onDrained) call.send({ type: 'user-text', text: 'yes' });
    for (const call of onDrained)
      await call.waitFor(() => call.texts.length > 2, 10_000, 'a reply while draining');
    expect(onDrained.every((c) => c.closed === undefined)).toBe(true);

    // End: half by the caller, half through the API on whichever server the balancer picks (the
    // owner ends it: at once when it is the one asked, else signalled, the draining one too).
    const [byCaller, byApi] = [calls.slice(0, 3), calls.slice(3)];
    for (const call of byCaller) call.send({ type: 'end' });
    for (const call of byApi) {
      const ended = await apiOf(lb, 'POST', `/v1/calls/${call.id}/end`);
      expect([200, 202], JSON.stringify(ended.json)).toContain(ended.status);
    }
    await Promise.all(calls.map((call) => call.waitFor(() => call.closed !== undefined, 10_000, 'close')));
    await receiver.waitFor(
      () =>
        calls.every((c) =>
          receiver
            .accepted()
            .some((e) => e.message.call.id === c.id && e.message.type === 'end-of-call-report'),
        ),
      15_000,
      'every end-of-call-report',
    );
    for (const call of calls) await expectCallComplete(receiver, database.db, call.id);
    const triggers = calls.map(
      (c) =>
        receiver.accepted().find((e) => e.message.call.id === c.id && e.message.type === 'end-of-call-report')
          ?.message.call.callEndTriggerBy,
    );
    expect(triggers).toEqual(['user', 'user', 'user', 'system', 'system', 'system', 'system']);
    expect(receiver.schemaErrors).toEqual([]);
    // The drained server exits once its last call has ended; the others run on.
    expect(await exited).toEqual([0, null]);
    expect(servers.filter((s) => s !== drained).every((s) => s.child.exitCode === null)).toBe(true);
  }, 150_000);
});
