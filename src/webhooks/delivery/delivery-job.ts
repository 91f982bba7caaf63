import { randomUUID } from 'node:crypto';
import type { SendResult } from '../http/send.js';
import type { DeliveryTarget } from './routing.js';

/** One (event, endpoint) delivery as the dispatcher holds it in memory. */
export interface DeliveryJob {
  id: string;
  teamId: string;
  eventId: string;
  eventType: string;
  callId: string | null;
  sequence: number;
  /** Deliveries in one lane are sent in sequence order: (call, endpoint), or the delivery alone. */
  laneKey: string;
  /** The exact bytes sent on every attempt (so retries and replays carry the same event). */
  body: string;
  target: DeliveryTarget;
  attemptCount: number;
  firstAttemptAt: number | null;
  createdAt: number;
  nextAttemptAt: number;
}

export const newDeliveryId = () => `dlv_${randomUUID().replaceAll('-', '')}`;

export function laneKeyOf(callId: string | null, url: string, deliveryId: string): string {
  return callId ? `${callId} ${url}` : deliveryId;
}

/** What one attempt wrote, for the delivery log. */
export interface AttemptRecord {
  id: string;
  deliveryId: string;
  attemptedAt: number;
  url: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseSnippet: string;
}

/** The delivery row's new state after an attempt. */
export interface DeliveryUpdate {
  id: string;
  status: 'pending' | 'delivered' | 'failed';
  attemptCount: number;
  nextAttemptAt: number;
  firstAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** Keep the lease (retry held in memory) or release it for the sweeper. */
  leaseUntil: number | null;
  completedAt: number | null;
}

/** The error text a delivery row and its attempt keep for one send result (null when none). */
export function errorText(result: SendResult): string | null {
  return result.error ? `${result.error.code}: ${result.error.message}` : null;
}

/** The delivery-log row of one attempt, for notifications and synchronous requests alike. */
export function attemptRecord(
  deliveryId: string,
  url: string,
  attemptedAt: number,
  result: SendResult,
): AttemptRecord {
  return {
    id: `att_${randomUUID().replaceAll('-', '')}`,
    deliveryId,
    attemptedAt,
    url,
    statusCode: result.statusCode ?? null,
    latencyMs: Math.round(result.latencyMs * 100) / 100,
    error: errorText(result),
    responseSnippet: result.responseBodySnippet,
  };
}
