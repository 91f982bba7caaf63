/**
 * Retry schedule for notification webhooks (README.md, "Webhooks"): exponential back-off with
 * ±20 % jitter, fast first retries, capped, for up to 72 hours (Stripe: 3 days; Svix: similar table).
 * A hand-written table: the schedule is policy, not something a library would add value to.
 */

/** Give up on an event this long after its first attempt. */
export const RETRY_HORIZON_MS = 72 * 60 * 60 * 1000;

/** Base delays after the 1st, 2nd, … failed attempt; the last one repeats (the cap). */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  1_000, // 1 s
  5_000, // 5 s
  30_000, // 30 s
  2 * 60_000, // 2 min
  10 * 60_000, // 10 min
  30 * 60_000, // 30 min
  60 * 60_000, // 1 h
  2 * 60 * 60_000, // 2 h
  4 * 60 * 60_000, // 4 h (cap)
];

export const MAX_RETRY_DELAY_MS = 4 * 60 * 60_000;
const JITTER_FRACTION = 0.2;

/**
 * Delay before the next attempt.
 * @param attempt how many attempts have failed so far (1 after the first failure).
 * @param random returns a number in [0, 1) (injectable for tests); 0.5 means no jitter.
 * @param retryAfterMs a floor from the receiver (`Retry-After`) or the classifier; clamped to the
 *   retry horizon.
 */
export function nextRetryDelayMs(
  attempt: number,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const idx = Math.min(Math.max(1, Math.floor(attempt)), RETRY_SCHEDULE_MS.length) - 1;
  const base = RETRY_SCHEDULE_MS[idx] ?? MAX_RETRY_DELAY_MS;
  const r = Math.min(Math.max(random(), 0), 1);
  const jittered = Math.round(base * (1 + (r * 2 - 1) * JITTER_FRACTION));
  const floor =
    retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0
      ? Math.min(Math.ceil(retryAfterMs), RETRY_HORIZON_MS)
      : 0;
  return Math.max(jittered, floor);
}

/** Whether an attempt at `nextAttemptAtMs` is still within the horizon of the event's first attempt. */
export function withinRetryHorizon(firstAttemptAtMs: number, nextAttemptAtMs: number): boolean {
  return nextAttemptAtMs - firstAttemptAtMs <= RETRY_HORIZON_MS;
}
