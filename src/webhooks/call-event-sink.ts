import type { EventMessage, ToolCall } from '../contract/event-schemas.js';
import type { DeliveryTarget } from './delivery/routing.js';
import type { CallContext, EventSpec } from './events/build-event.js';
import type { AssistantRequestReply, ToolCallResult } from './http/parse-reply.js';

export type { AssistantRequestReply, ToolCallResult };

/** A write that is retried keeps its event ids, so that a retry never stores an event twice. */
export interface RecordOptions {
  /** The events' ids (one per event), the same on every attempt. */
  eventIds?: readonly string[];
  /**
   * A retry: an earlier attempt with these ids failed, perhaps after its commit (a connection
   * lost during COMMIT). When its events are stored already, nothing is written again.
   */
  retry?: boolean;
}

/**
 * How the call engine reports a call through the webhook contract. The engine owns the call's
 * state; the sink persists it and its events together and delivers them.
 */
export interface CallEventSink {
  /**
   * Persists `ctx.call` (the new state) and appends these events to the call's event log in
   * one transaction (stable ids, next sequence numbers), then starts their delivery at once.
   * Notifications are delivered at least once; the promise resolves once they are durable.
   */
  record(ctx: CallContext, events: readonly EventSpec[], options?: RecordOptions): Promise<EventMessage[]>;

  /**
   * Records a `tool-calls` event and sends it to each tool's own server (or the assistant's),
   * waiting at most 10 s (less where the tool says so). Never throws: timeouts, refusals and
   * unusable replies become `{ok: false, error}` for the model, and every attempt is logged in
   * the delivery log. Every requested id has an entry in the result.
   */
  requestToolCalls(
    ctx: CallContext,
    toolCalls: readonly ToolCall[],
    signal: AbortSignal,
  ): Promise<Map<string, ToolCallResult>>;

  /**
   * Records an `assistant-request` event (the call's first) and asks `target` which assistant
   * takes the call, within its timeout (at most 5 s). Never throws: a timeout, a refusal or an
   * unusable reply is `{kind: 'unusable', reason}`.
   */
  requestAssistant(
    ctx: CallContext,
    target: DeliveryTarget,
    signal: AbortSignal,
  ): Promise<AssistantRequestReply>;
}
