/**
 * Synchronous webhook requests: `tool-calls` and `assistant-request` (and test events) are sent
 * at once, never queued, their reply read within a budget, and each is logged as a delivery with
 * its one attempt. A connected `parley listen --tools` answers instead of the URL through a
 * `SyncRequestRelay`, an interface defined here so that webhooks/ does not import listen/.
 */
import type { Logger } from 'pino';
import type { EventMessage, ToolCall } from '../contract/event-schemas.js';
import type { Db } from '../db/database.js';
import { buildSignedHeaders } from '../shared/webhook-signing.js';
import type { AssistantRequestReply, ToolCallResult } from './call-event-sink.js';
import { attemptRecord, errorText, newDeliveryId } from './delivery/delivery-job.js';
import { insertDeliveries, writeAttemptResults } from './delivery/delivery-store.js';
import { type DeliveryTarget, toolCallTarget } from './delivery/routing.js';
import { serializeEvent } from './delivery/wire-format.js';
import type { CallContext, EventSpec } from './events/build-event.js';
import { parseAssistantRequestReply, parseToolCallsReply } from './http/parse-reply.js';
import { type SendResult, sendWebhook } from './http/send.js';

/** README.md, "Webhooks": an assistant-request is answered within 5 s or falls back. */
const ASSISTANT_REQUEST_BUDGET_MS = 5_000;

/** Largest synchronous reply read (tool results, assistant-request replies). */
const SYNC_REPLY_MAX_BYTES = 256 * 1024;

/** Sends one request through a relay instead of the URL; settles with the answer or a failure. */
export type RelaySend = (opts: { timeoutMs: number; signal?: AbortSignal }) => Promise<SendResult>;

/** Where a team's synchronous requests go instead of the URL (listen/sync-relay.ts implements it). */
export interface SyncRequestRelay {
  /** The sender for this request, or undefined when no relay serves it (the URL is used). */
  route(teamId: string, message: EventMessage): RelaySend | undefined;
}

/** Records one event of a call without delivering it (the request carries it), returns it. */
export type RecordEvent = (ctx: CallContext, spec: EventSpec) => Promise<EventMessage>;

export class SyncRequests {
  /** `parley listen --tools`: a connected listener answers synchronous requests instead of the URL. */
  relay: SyncRequestRelay | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly allowPrivate: boolean,
    private readonly recordEvent: RecordEvent,
  ) {}

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
          message = await this.recordEvent(ctx, { type: 'tool-calls', toolCallList: calls });
        } catch (error) {
          this.logger.error({ err: error, callId: ctx.call.id }, 'could not record tool-calls event');
          for (const c of calls)
            results.set(c.id, { ok: false, error: 'the tool could not be called (internal error)' });
          return;
        }
        const { result } = await this.send(ctx.call.teamId, ctx.call.id, message, target, signal);
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

  async requestAssistant(
    ctx: CallContext,
    target: DeliveryTarget,
    signal: AbortSignal,
  ): Promise<AssistantRequestReply> {
    let message: EventMessage;
    try {
      message = await this.recordEvent(ctx, { type: 'assistant-request' });
    } catch (error) {
      this.logger.error({ err: error, callId: ctx.call.id }, 'could not record assistant-request event');
      return { kind: 'unusable', reason: 'internal error' };
    }
    const budget = { ...target, timeoutMs: Math.min(target.timeoutMs, ASSISTANT_REQUEST_BUDGET_MS) };
    const { result } = await this.send(ctx.call.teamId, ctx.call.id, message, budget, signal);
    if (!result.ok) {
      const reason =
        result.error?.code === 'timeout'
          ? `no answer within ${budget.timeoutMs} ms`
          : result.error
            ? `${result.error.code}: ${result.error.message}`
            : `HTTP ${result.statusCode}`;
      return { kind: 'unusable', reason };
    }
    return parseAssistantRequestReply(result.responseBody);
  }

  /** One synchronous request: sent now, never queued, logged as a delivery with its attempt. */
  async send(
    teamId: string,
    callId: string | null,
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
    const relay = this.relay?.route(teamId, message);
    const result = relay
      ? await relay({ timeoutMs: target.timeoutMs, ...(signal ? { signal } : {}) })
      : await sendWebhook({
          url: target.url,
          headers,
          body,
          timeoutMs: target.timeoutMs,
          maxResponseBytes: SYNC_REPLY_MAX_BYTES,
          allowPrivate: this.allowPrivate,
          ...(signal ? { signal } : {}),
        });
    const deliveryId = newDeliveryId();
    try {
      await this.log(deliveryId, teamId, callId, message, target, attemptedAt, result, relay !== undefined);
    } catch (e) {
      this.logger.error({ err: e, eventId: message.id }, 'could not log synchronous request');
    }
    return { deliveryId, result };
  }

  private async log(
    deliveryId: string,
    teamId: string,
    callId: string | null,
    message: EventMessage,
    target: DeliveryTarget,
    attemptedAt: number,
    result: SendResult,
    relayed: boolean,
  ): Promise<void> {
    const status = result.ok ? 'delivered' : 'failed';
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
        status,
        nextAttemptAt: attemptedAt,
        leaseOwner: null,
        leaseUntil: null,
      },
    ]);
    await writeAttemptResults(
      this.db,
      // The delivery log says when `parley listen` answered instead of the URL.
      [attemptRecord(deliveryId, relayed ? 'parley listen' : target.url, attemptedAt, result)],
      [
        {
          id: deliveryId,
          status,
          attemptCount: 1,
          nextAttemptAt: attemptedAt,
          firstAttemptAt: attemptedAt,
          lastStatusCode: result.statusCode ?? null,
          lastError: errorText(result),
          leaseUntil: null,
          completedAt: Date.now(),
        },
      ],
    );
  }
}
