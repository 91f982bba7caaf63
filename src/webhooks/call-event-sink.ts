/**
 * The webhook side of the engine's `CallEventSink` (engine/call-event-sink.ts): the outbox
 * also answers `assistant-request` for call admission, which the engine never asks.
 */
import type { CallEventSink as EngineCallEventSink, ToolCallResult } from '../engine/call-event-sink.js';
import type { DeliveryTarget } from './delivery/routing.js';
import type { CallContext } from './events/build-event.js';
import type { AssistantRequestReply } from './http/parse-reply.js';

export type { RecordOptions } from '../engine/call-event-sink.js';
export type { AssistantRequestReply, ToolCallResult };

export interface CallEventSink extends EngineCallEventSink {
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
