import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { NOTIFICATION_EVENT_TYPES, type NotificationEventType } from '../assistants/assistant-schema.js';
import type { Db } from '../db/database.js';
import { newEventId } from '../shared/ids.js';
import type { CallEventSink, ToolCallResult } from './call-event-sink.js';
import type { DeliveryJob } from './delivery/delivery-job.js';
import { laneKeyOf } from './delivery/delivery-job.js';
import { type DeliveryRowInput, insertDeliveries, writeAttemptResults } from './delivery/delivery-store.js';
import type { Dispatcher } from './delivery/dispatcher.js';
import { assistantServerTarget, type DeliveryTarget, toolCallTarget } from './delivery/routing.js';
import { serializeEvent } from './delivery/wire-format.js';
import { buildEventMessage, type CallContext, type EventSpec } from './events/build-event.js';
import type { EventMessage, ToolCall } from './events/event-schemas.js';
import { parseToolCallsReply } from './http/parse-reply.js';
import { type SendResult, sendWebhook } from './http/send.js';
import { buildSignedHeaders } from './http/signing.js';

const isNotification = (type: string): type is NotificationEventType =>
  (NOTIFICATION_EVENT_TYPES as readonly string[]).includes(type);

export const newDeliveryId = () => `dlv_${randomBytes(12).toString('base64url')}`;
const newAttemptId = () => `att_${randomBytes(12).toString('base64url')}`;

/** Largest synchronous reply read (tool results, assistant-request replies). */
export const SYNC_REPLY_MAX_BYTES = 256 * 1024;

/**
 * The transactional outbox: a call's new state and the events it caused are written in one
 * transaction, then handed to the dispatcher, which sends them at once. Implements the call
 * engine's `CallEventSink`.
 */
export class Outbox implements CallEventSink {
  constructor(
    private readonly db: Db,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    private readonly allowPrivate: boolean,
  ) {}

  async record(ctx: CallContext, specs: readonly EventSpec[]): Promise<EventMessage[]> {
    const { messages, jobs } = await this.persist(ctx, specs, true);
    this.dispatcher.enqueue(jobs);
    return messages;
  }

  private async persist(ctx: CallContext, specs: readonly EventSpec[], deliver: boolean) {
    const now = Date.now();
    const { call } = ctx;
    const n = specs.length;
    const messages: EventMessage[] = [];
    const rows: DeliveryRowInput[] = [];
    const jobs: DeliveryJob[] = [];
    await this.db.transaction().execute(async (tx) => {
      const record = JSON.stringify(call);
      const { event_sequence } = await tx
        .insertInto('calls')
        .values({
          id: call.id,
          team_id: call.teamId,
          assistant_id: call.assistantId || null,
          status: call.status,
          created_at: call.startAt,
          record,
          event_sequence: n,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            status: call.status,
            assistant_id: call.assistantId || null,
            record,
            updated_at: new Date(now),
            event_sequence: sql<number>`calls.event_sequence + ${n}`,
          }),
        )
        .returning('event_sequence')
        .executeTakeFirstOrThrow();
      if (n === 0) return;
      const first = event_sequence - n + 1;
      specs.forEach((spec, i) => {
        messages.push(
          buildEventMessage(ctx, spec, { id: newEventId(), sequence: first + i, timestamp: now }),
        );
      });
      await tx
        .insertInto('call_events')
        .values(
          messages.map((m) => ({
            id: m.id,
            team_id: call.teamId,
            call_id: call.id,
            sequence: m.sequence,
            type: m.type,
            payload: JSON.stringify(m),
          })),
        )
        .execute();
      if (!deliver) return;
      for (const m of messages) {
        if (!isNotification(m.type)) continue;
        const target = assistantServerTarget(ctx.assistant, m.type);
        if (!target) continue;
        const id = newDeliveryId();
        rows.push({
          id,
          teamId: call.teamId,
          eventId: m.id,
          callId: call.id,
          sequence: m.sequence,
          eventType: m.type,
          mode: 'notification',
          target,
          status: 'pending',
          nextAttemptAt: now,
          leaseOwner: this.dispatcher.owner,
          leaseUntil: this.dispatcher.leaseUntil(now),
        });
        jobs.push({
          id,
          teamId: call.teamId,
          eventId: m.id,
          eventType: m.type,
          callId: call.id,
          sequence: m.sequence,
          laneKey: laneKeyOf(call.id, target.url, id),
          body: serializeEvent(m, target.format),
          target,
          attemptCount: 0,
          firstAttemptAt: null,
          createdAt: now,
          nextAttemptAt: now,
        });
      }
      await insertDeliveries(tx, rows);
    });
    return { messages, jobs };
  }

  async requestToolCalls(
    ctx: CallContext,
    toolCalls: readonly ToolCall[],
    signal: AbortSignal,
  ): Promise<Map<string, ToolCallResult>> {
    const results = new Map<string, ToolCallResult>();
    // One request per destination: tools with their own server, the rest to the assistant's.
    const groups = new Map<string, { target: DeliveryTarget; calls: ToolCall[] }>();
    for (const toolCall of toolCalls) {
      const target = toolCallTarget(ctx.assistant, toolCall.function.name);
      if (!target) {
        results.set(toolCall.id, {
          ok: false,
          error: `no server is configured for tool ${toolCall.function.name}`,
        });
        continue;
      }
      const key = JSON.stringify([target.url, target.secret ?? '']);
      const group = groups.get(key) ?? { target, calls: [] };
      group.calls.push(toolCall);
      groups.set(key, group);
    }
    await Promise.all(
      [...groups.values()].map(async ({ target, calls }) => {
        let message: EventMessage;
        try {
          [message] = (await this.persist(ctx, [{ type: 'tool-calls', toolCallList: calls }], false))
            .messages as [EventMessage];
        } catch (error) {
          this.logger.error({ err: error, callId: ctx.call.id }, 'could not record tool-calls event');
          for (const c of calls)
            results.set(c.id, { ok: false, error: 'the tool could not be called (internal error)' });
          return;
        }
        const { result } = await this.sendSync(ctx.call.teamId, message, target, signal);
        const ids = calls.map((c) => c.id);
        if (!result.ok) {
          const why =
            result.error?.code === 'timeout'
              ? `the tool did not answer within ${target.timeoutMs} ms`
              : result.error
                ? `the tool server could not be reached (${result.error.code})`
                : `the tool server answered HTTP ${result.statusCode}`;
          for (const id of ids) results.set(id, { ok: false, error: why });
          return;
        }
        const reply = parseToolCallsReply(result.responseBody, ids);
        for (const id of ids) {
          results.set(
            id,
            reply.usable
              ? (reply.results[id] ?? { ok: false, error: 'no result' })
              : { ok: false, error: `unusable reply: ${reply.reason}` },
          );
        }
      }),
    );
    return results;
  }

  /**
   * One synchronous request (tool-calls, assistant-request, test events): sent now, never
   * queued, logged as a delivery with its attempt.
   */
  async sendSync(
    teamId: string,
    message: EventMessage,
    target: DeliveryTarget,
    signal?: AbortSignal,
  ): Promise<{ deliveryId: string; result: SendResult }> {
    const body = serializeEvent(message, target.format);
    const attemptedAt = Date.now();
    const headers = buildSignedHeaders({
      eventId: message.id,
      eventType: message.type,
      timestampMs: attemptedAt,
      body,
      ...(target.secret ? { secret: target.secret } : {}),
      headers: target.headers,
    });
    const result = await sendWebhook({
      url: target.url,
      headers,
      body,
      timeoutMs: target.timeoutMs,
      maxResponseBytes: SYNC_REPLY_MAX_BYTES,
      allowPrivate: this.allowPrivate,
      ...(signal ? { signal } : {}),
    });
    const deliveryId = newDeliveryId();
    const error = result.error ? `${result.error.code}: ${result.error.message}` : null;
    const callId = message.call.id.startsWith('WC-test') ? null : message.call.id;
    try {
      await insertDeliveries(this.db, [
        {
          id: deliveryId,
          teamId,
          eventId: message.id,
          callId,
          sequence: message.sequence,
          eventType: message.type,
          mode: 'sync',
          target,
          status: result.ok ? 'delivered' : 'failed',
          nextAttemptAt: attemptedAt,
          leaseOwner: null,
          leaseUntil: null,
        },
      ]);
      await writeAttemptResults(
        this.db,
        [
          {
            id: newAttemptId(),
            deliveryId,
            attemptedAt,
            url: target.url,
            statusCode: result.statusCode ?? null,
            latencyMs: Math.round(result.latencyMs * 100) / 100,
            error,
            responseSnippet: result.responseBodySnippet,
          },
        ],
        [
          {
            id: deliveryId,
            status: result.ok ? 'delivered' : 'failed',
            attemptCount: 1,
            nextAttemptAt: attemptedAt,
            firstAttemptAt: attemptedAt,
            lastStatusCode: result.statusCode ?? null,
            lastError: error,
            leaseUntil: null,
            completedAt: Date.now(),
          },
        ],
      );
    } catch (e) {
      this.logger.error({ err: e, eventId: message.id }, 'could not log synchronous request');
    }
    return { deliveryId, result };
  }
}
