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
