/**
 * What one notification attempt's result means for its delivery (the "settle" step of the
 * dispatcher's prepare, send, settle): retried (when, and whether the retry stays in memory),
 * delivered, failed, or failed with the endpoint to disable (410 Gone). Pure, so the policy is
 * read in one place.
 */
import { nextRetryDelayMs, RETRY_HORIZON_MS } from '../http/backoff.js';
import { classifyOutcome, parseRetryAfter, type SendResult } from '../http/send.js';
import { type DeliveryJob, type DeliveryUpdate, errorText } from './delivery-job.js';

export interface RetryPolicy {
  /** Retries sooner than this stay in memory; later ones go back to the table for the sweeper. */
  inMemoryRetryMs: number;
  /** Scales computed back-off (not a receiver's Retry-After). */
  retryDelayScale: number;
  leaseMs: number;
  random: () => number;
}

export interface Settled {
  /** `gave-up`: retries would run past the retry horizon (72 h). */
  kind: 'retry' | 'gave-up' | 'delivered' | 'failed';
  update: DeliveryUpdate;
  /** The job stays in memory for a retry. */
  keep: boolean;
  /** The endpoint answered 410 Gone: disable it. */
  disable: boolean;
}

const horizonHours = RETRY_HORIZON_MS / 3_600_000;

/** The counters of a delivery after its latest attempt. */
export type AttemptedJob = Pick<DeliveryJob, 'id' | 'attemptCount' | 'createdAt'> & {
  firstAttemptAt: number;
};

/** Settles `job` after an attempt that ended with `result` at `now`. */
export function settleAttempt(
  job: AttemptedJob,
  result: SendResult,
  now: number,
  policy: RetryPolicy,
): Settled {
  const outcome = classifyOutcome(result, now);
  const error = errorText(result);
  const base = {
    id: job.id,
    attemptCount: job.attemptCount,
    firstAttemptAt: job.firstAttemptAt,
    lastStatusCode: result.statusCode ?? null,
    lastError: error,
  };
  if (outcome.kind === 'retry') {
    const fromReceiver = parseRetryAfter(result.responseHeaders['retry-after'], now);
    const delay =
      fromReceiver !== undefined
        ? nextRetryDelayMs(job.attemptCount, policy.random, fromReceiver)
        : Math.round(
            nextRetryDelayMs(job.attemptCount, policy.random, outcome.retryAfterMs) * policy.retryDelayScale,
          );
    const next = now + delay;
    if (next - job.createdAt <= RETRY_HORIZON_MS) {
      const keep = delay <= policy.inMemoryRetryMs;
      const update: DeliveryUpdate = {
        ...base,
        status: 'pending',
        nextAttemptAt: next,
        leaseUntil: keep ? next + policy.leaseMs : null,
        completedAt: null,
      };
      return { kind: 'retry', update, keep, disable: false };
    }
    const update: DeliveryUpdate = {
      ...base,
      status: 'failed',
      nextAttemptAt: now,
      leaseUntil: null,
      completedAt: now,
      lastError: `gave up after ${horizonHours} h: ${error ?? result.statusCode}`,
    };
    return { kind: 'gave-up', update, keep: false, disable: false };
  }
  const kind = outcome.kind === 'success' ? 'delivered' : 'failed';
  const update: DeliveryUpdate = {
    ...base,
    status: kind,
    nextAttemptAt: now,
    leaseUntil: null,
    completedAt: now,
  };
  return { kind, update, keep: false, disable: outcome.kind === 'disable' };
}
