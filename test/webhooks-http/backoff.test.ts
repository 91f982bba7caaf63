import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_DELAY_MS,
  nextRetryDelayMs,
  RETRY_HORIZON_MS,
  RETRY_SCHEDULE_MS,
  withinRetryHorizon,
} from '../../src/webhooks/http/backoff.js';

const mid = () => 0.5;

describe('nextRetryDelayMs', () => {
  it('follows the schedule without jitter at random = 0.5', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50].map((a) => nextRetryDelayMs(a, mid));
    expect(delays).toEqual([
      1_000,
      5_000,
      30_000,
      120_000,
      600_000,
      1_800_000,
      3_600_000,
      7_200_000,
      MAX_RETRY_DELAY_MS,
      MAX_RETRY_DELAY_MS,
      MAX_RETRY_DELAY_MS,
    ]);
    expect(RETRY_SCHEDULE_MS.every((d, i) => i === 0 || d > (RETRY_SCHEDULE_MS[i - 1] ?? 0))).toBe(true);
  });

  it('jitters by at most ±20 %', () => {
    expect(nextRetryDelayMs(3, () => 0)).toBe(24_000);
    expect(nextRetryDelayMs(3, () => 0.999999)).toBeCloseTo(36_000, -1);
    for (let i = 0; i < 200; i++) {
      const d = nextRetryDelayMs(5);
      expect(d).toBeGreaterThanOrEqual(480_000);
      expect(d).toBeLessThanOrEqual(720_000);
    }
  });

  it('treats odd attempt numbers sanely', () => {
    expect(nextRetryDelayMs(0, mid)).toBe(1_000);
    expect(nextRetryDelayMs(-3, mid)).toBe(1_000);
    expect(nextRetryDelayMs(2.7, mid)).toBe(5_000);
  });

  it('uses Retry-After as a floor, clamped to the horizon', () => {
    expect(nextRetryDelayMs(1, mid, 60_000)).toBe(60_000);
    expect(nextRetryDelayMs(7, mid, 60_000)).toBe(3_600_000);
    expect(nextRetryDelayMs(1, mid, 0)).toBe(1_000);
    expect(nextRetryDelayMs(1, mid, Number.NaN)).toBe(1_000);
    expect(nextRetryDelayMs(1, mid, 10 * RETRY_HORIZON_MS)).toBe(RETRY_HORIZON_MS);
  });

  it('spreads about 25 attempts over the 72 h horizon', () => {
    let t = 0;
    let attempts = 1;
    while (withinRetryHorizon(0, t + nextRetryDelayMs(attempts, mid))) {
      t += nextRetryDelayMs(attempts, mid);
      attempts++;
    }
    expect(RETRY_HORIZON_MS).toBe(72 * 3_600_000);
    expect(attempts).toBeGreaterThan(15);
    expect(attempts).toBeLessThan(30);
  });
});
