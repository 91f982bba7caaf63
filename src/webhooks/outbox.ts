/**
 * The transactional outbox: a call's new state and the events it caused are written in one
 * transaction (group commit: the records waiting meanwhile share the next one), then handed to
 * the dispatcher, which sends them at once, and to the live views. Implements the call engine's
 * `CallEventSink`; its synchronous requests (tool-calls, assistant-request) are sync-request.ts.
 */
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { NOTIFICATION_EVENT_TYPES, type NotificationEventType } from '../contract/assistant-schema.js';
import type { EventMessage, ToolCall } from '../contract/event-schemas.js';
import type { Db } from '../db/database.js';
import { CallOwnershipLost } from '../engine/call-event-sink.js';
import { newEventId } from '../shared/ids.js';
import type {
  AssistantRequestReply,
  CallEventSink,
  RecordOptions,
  ToolCallResult,
} from './call-event-sink.js';
import type { DeliveryJob } from './delivery/delivery-job.js';
import { laneKeyOf, newDeliveryId } from './delivery/delivery-job.js';
import { type DeliveryRowInput, insertDeliveries } from './delivery/delivery-store.js';
import type { Dispatcher } from './delivery/dispatcher.js';
import { assistantServerTarget, type DeliveryTarget } from './delivery/routing.js';
import { serializeEvent } from './delivery/wire-format.js';
import { buildEventMessage, type CallContext, type EventSpec } from './events/build-event.js';
import { type CompactedBatch, EventCompactor, insertMessageBodies } from './events/event-storage.js';
import { type LiveEventPublisher, liveEventOf } from './events/live-event.js';
import type { SendResult } from './http/send.js';
import { type SyncRequestRelay, SyncRequests } from './sync-request.js';

const isNotification = (type: string): type is NotificationEventType =>
  (NOTIFICATION_EVENT_TYPES as readonly string[]).includes(type);

/** Each event is serialised at most once for its default-format body (storage keeps it compacted). */
const jsonOf = new WeakMap<EventMessage, string>();
function payloadJson(message: EventMessage): string {
  let json = jsonOf.get(message);
  if (json === undefined) {
    json = JSON.stringify(message);
    jsonOf.set(message, json);
  }
  return json;
}

interface Persisted {
  messages: EventMessage[];
  jobs: DeliveryJob[];
}

interface PendingRecord {
  ctx: CallContext;
  specs: readonly EventSpec[];
  /** Ids chosen by the caller (stable across its retries); otherwise new ones. */
  eventIds?: readonly string[];
  deliver: boolean;
  timestamp: number;
  resolve: (value: Persisted) => void;
  reject: (error: unknown) => void;
}

/**
 * Transactions in flight at once: one builds and sends while the other waits for its WAL flush.
 * Measured on PostgreSQL (bench/webhooks): 1 → 1,233 events/s, 2 → 1,657, 3 → 1,546. Batches
 * touching one call serialise on its row lock and its sequence numbers come from that row, so
 * order per call holds; rows are locked in id order, so batches cannot deadlock.
 */
const MAX_COMMITTERS = 2;

/** At most this many record() calls share a transaction (keeps statements under PG's parameter cap). */
const MAX_BATCH = 400;

export class Outbox implements CallEventSink {
  private pending: PendingRecord[] = [];
  private readonly compactor = new EventCompactor();
  private committers = 0;
  private readonly sync: SyncRequests;

  constructor(
    private readonly db: Db,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    allowPrivate: boolean,
    /** Gets every recorded event once its transaction has committed (live views). */
    private readonly live?: LiveEventPublisher,
    /**
     * Fencing: the owner stamp of this process's calls (see CallRecovery). A call row owned by
     * another process is never written; its record() fails with `CallOwnershipLost`.
     */
    private readonly callOwner?: string,
  ) {
    this.sync = new SyncRequests(db, logger, allowPrivate, async (ctx, spec) => {
      const { messages } = await this.persist(ctx, [spec], false);
      return messages[0] as EventMessage;
    });
  }

  /** `parley listen --tools`: a connected listener answers synchronous requests instead of the URL. */
  get syncRelay(): SyncRequestRelay | undefined {
    return this.sync.relay;
  }

  set syncRelay(relay: SyncRequestRelay | undefined) {
    this.sync.relay = relay;
  }

  async record(
    ctx: CallContext,
    specs: readonly EventSpec[],
    options: RecordOptions = {},
  ): Promise<EventMessage[]> {
    if (options.retry && options.eventIds?.length && (await this.alreadyStored(options.eventIds))) return [];
    const { messages, jobs } = await this.persist(ctx, specs, true, options.eventIds);
    this.dispatcher.enqueue(jobs);
    return messages;
  }

  /**
   * Whether an earlier attempt of a retried write committed after all (its acknowledgement was
   * lost with the connection). Its deliveries were leased to this process but never handed to
   * the dispatcher: they are released to the sweeper, which sends them.
   */
  private async alreadyStored(eventIds: readonly string[]): Promise<boolean> {
    const found = await this.db.selectFrom('call_events').select('id').where('id', 'in', eventIds).execute();
    if (found.length === 0) return false;
    await this.db
      .updateTable('webhook_deliveries')
      .set({ lease_owner: null, lease_until: null })
      .where('event_id', 'in', eventIds)
      .where('status', '=', 'pending')
      .execute();
    this.logger.warn({ eventIds }, 'a retried write had been stored already; not written again');
    return true;
  }

  /**
   * Group commit: every record() waiting while a transaction is in flight goes into the next
   * one. A durable commit costs milliseconds (the WAL flush), so one transaction per event caps
   * a server at a few hundred events per second; batching lifts that without delaying anyone.
   */
  private persist(
    ctx: CallContext,
    specs: readonly EventSpec[],
    deliver: boolean,
    eventIds?: readonly string[],
  ): Promise<Persisted> {
    return new Promise((resolve, reject) => {
      this.pending.push({
        // The engine mutates its state after this call: events are built from a snapshot.
        ctx: {
          ...ctx,
          call: structuredClone(ctx.call),
          messages: structuredClone(ctx.messages) as CallContext['messages'],
        },
        specs,
        ...(eventIds ? { eventIds } : {}),
        deliver,
        timestamp: Date.now(),
        resolve,
        reject,
      });
      if (this.committers < MAX_COMMITTERS) void this.commitLoop();
    });
  }

  private async commitLoop(): Promise<void> {
    this.committers++;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          const results = await this.commitBatch(batch);
          for (const [i, r] of batch.entries()) r.resolve(results[i] as Persisted);
          this.publish(results);
        } catch (error) {
          if (batch.length === 1) {
            batch[0]?.reject(error);
            continue;
          }
          // Isolate the failing record: commit the others one by one.
          for (const r of batch) {
            await this.commitBatch([r]).then(
              (results) => {
                r.resolve(results[0] as Persisted);
                this.publish(results);
              },
              (e: unknown) => r.reject(e),
            );
          }
        }
      }
    } finally {
      this.committers--;
    }
  }

  /** Committed events to the live hub (which never throws). */
  private publish(results: readonly Persisted[]): void {
    if (!this.live) return;
    for (const { messages } of results) for (const m of messages) this.live.publish(liveEventOf(m));
  }

  private async commitBatch(batch: readonly PendingRecord[]): Promise<Persisted[]> {
    // One upsert row per call: its latest state, and how many sequence numbers it needs.
    const perCall = new Map<string, { call: CallContext['call']; count: number; reported: boolean }>();
    for (const r of batch) {
      const entry = perCall.get(r.ctx.call.id);
      perCall.set(r.ctx.call.id, {
        call: r.ctx.call,
        count: (entry?.count ?? 0) + r.specs.length,
        reported: (entry?.reported ?? false) || r.specs.some((spec) => spec.type === 'end-of-call-report'),
      });
    }
    const results: Persisted[] = batch.map(() => ({ messages: [], jobs: [] }));
    let stored: CompactedBatch | undefined;
    await this.db.transaction().execute(async (tx) => {
      const now = new Date();
      const rows = await tx
        .insertInto('calls')
        .values(
          [...perCall.values()]
            // Always lock call rows in one order, so concurrent batches cannot deadlock.
            .sort((a, b) => (a.call.id < b.call.id ? -1 : 1))
            .map(({ call, count, reported }) => ({
              id: call.id,
              team_id: call.teamId,
              assistant_id: call.assistantId || null,
              status: call.status,
              created_at: call.startAt,
              record: JSON.stringify(call),
              event_sequence: count,
              reported_at: reported ? now : null,
            })),
        )
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet({
              status: sql`excluded.status`,
              assistant_id: sql`excluded.assistant_id`,
              record: sql`excluded.record`,
              updated_at: now,
              event_sequence: sql<number>`calls.event_sequence + excluded.event_sequence`,
              reported_at: sql`coalesce(excluded.reported_at, calls.reported_at)`,
            })
            .where(this.fence()),
        )
        .returning(['id', 'event_sequence'])
        .execute();
      if (rows.length < perCall.size) {
        // Fenced: rolls back; commitLoop then commits the batch's other records on their own.
        const written = new Set(rows.map((row) => row.id));
        throw new CallOwnershipLost([...perCall.keys()].filter((id) => !written.has(id)));
      }
      const next = new Map(
        rows.map((row) => [row.id, row.event_sequence - (perCall.get(row.id)?.count ?? 0) + 1]),
      );
      const events: EventMessage[] = [];
      const deliveries: DeliveryRowInput[] = [];
      batch.forEach((r, i) => {
        const out = results[i] as Persisted;
        for (const [k, spec] of r.specs.entries()) {
          const sequence = next.get(r.ctx.call.id) ?? 1;
          next.set(r.ctx.call.id, sequence + 1);
          const message = buildEventMessage(r.ctx, spec, {
            id: r.eventIds?.[k] ?? newEventId(),
            sequence,
            timestamp: r.timestamp,
          });
          out.messages.push(message);
          events.push(message);
          if (!r.deliver || !isNotification(message.type)) continue;
          const target = assistantServerTarget(r.ctx.assistant, message.type);
          if (!target) continue;
          const id = newDeliveryId();
          const { call } = r.ctx;
          deliveries.push({
            id,
            teamId: call.teamId,
            eventId: message.id,
            callId: call.id,
            sequence,
            eventType: message.type,
            mode: 'notification',
            target,
            status: 'pending',
            nextAttemptAt: r.timestamp,
            leaseOwner: this.dispatcher.owner,
            leaseUntil: this.dispatcher.leaseUntil(r.timestamp),
          });
          out.jobs.push({
            id,
            teamId: call.teamId,
            eventId: message.id,
            eventType: message.type,
            callId: call.id,
            sequence,
            laneKey: laneKeyOf(call.id, target.url, id),
            body:
              target.format === 'interactly'
                ? `{"message":${payloadJson(message)}}`
                : serializeEvent(message, target.format),
            target,
            attemptCount: 0,
            firstAttemptAt: null,
            createdAt: r.timestamp,
            nextAttemptAt: r.timestamp,
          });
        }
      });
      if (events.length > 0) {
        // The conversation is stored once per message version, not once per event (event-storage.ts).
        const compacted = this.compactor.compact(events);
        stored = compacted;
        await tx.insertInto('call_events').values(compacted.rows).execute();
        await insertMessageBodies(tx, compacted);
        // Other processes' live views (PostgreSQL NOTIFY: sent only if this transaction commits).
        if (this.live?.beforeCommit) await this.live.beforeCommit(tx, events);
      }
      await insertDeliveries(tx, deliveries);
    });
    stored?.committed();
    return results;
  }

  /**
   * The fenced write (checked in the upsert itself, under the row lock): the row is not owned by
   * another process, and a call that ended is never written back to a live status.
   */
  private fence() {
    const owned = this.callOwner
      ? sql<boolean>`(calls.owner is null or calls.owner = ${this.callOwner})`
      : sql<boolean>`true`;
    return sql<boolean>`${owned} and not (calls.status not in ('queued', 'ongoing') and excluded.status in ('queued', 'ongoing'))`;
  }

  requestToolCalls(
    ctx: CallContext,
    toolCalls: readonly ToolCall[],
    signal: AbortSignal,
  ): Promise<Map<string, ToolCallResult>> {
    return this.sync.requestToolCalls(ctx, toolCalls, signal);
  }

  requestAssistant(
    ctx: CallContext,
    target: DeliveryTarget,
    signal: AbortSignal,
  ): Promise<AssistantRequestReply> {
    return this.sync.requestAssistant(ctx, target, signal);
  }

  /** One synchronous request (tool-calls, assistant-request, test events); see sync-request.ts. */
  sendSync(
    teamId: string,
    callId: string | null,
    message: EventMessage,
    target: DeliveryTarget,
    signal?: AbortSignal,
  ): Promise<{ deliveryId: string; result: SendResult }> {
    return this.sync.send(teamId, callId, message, target, signal);
  }
}
