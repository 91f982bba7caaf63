import { afterAll, describe, expect, it } from 'vitest';
import { newEventId } from '../../src/shared/ids.js';
import { callContext } from '../support/call-context.js';
import { startTestServer } from '../support/test-server.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('a retried write whose first attempt committed unacknowledged', () => {
  it('is not stored twice, and its events are still delivered once', async () => {
    const receiver = await new WebhookReceiver().start();
    const server = await startTestServer({}, { sweepIntervalMs: 100 });
    cleanups.push(async () => {
      await server.close();
      await receiver.stop();
    });
    const { teamId } = await server.createTeam('ambiguous');
    const ctx = callContext(teamId, { assistantServer: { url: receiver.url } });
    const { outbox, dispatcher, database } = server.parley;
    const eventIds = [newEventId(), newEventId()];
    // The first attempt commits, but (as when the connection drops during COMMIT) the caller
    // never hears of it, and its deliveries are never handed to the dispatcher.
    const persist = (outbox as unknown as { persist: (...a: unknown[]) => Promise<unknown> }).persist.bind(
      outbox,
    );
    await persist(ctx, [{ type: 'status-update' }, { type: 'hang' }], true, eventIds);
    // The retry, with the same ids.
    const again = await outbox.record(ctx, [{ type: 'status-update' }, { type: 'hang' }], {
      eventIds,
      retry: true,
    });
    expect(again).toEqual([]);
    const stored = await database.db
      .selectFrom('call_events')
      .select(['id', 'sequence'])
      .where('call_id', '=', ctx.call.id)
      .orderBy('sequence')
      .execute();
    expect(stored).toEqual([
      { id: eventIds[0], sequence: 1 },
      { id: eventIds[1], sequence: 2 },
    ]);
    // Released to the sweeper, which sends them.
    await receiver.waitFor(() => receiver.accepted().length === 2, 10_000, 'both events');
    expect(receiver.accepted().map((e) => e.message.id)).toEqual(eventIds);
    expect(receiver.schemaErrors).toEqual([]);
    await dispatcher.drain();
  });
});
