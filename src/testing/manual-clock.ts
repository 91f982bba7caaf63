import type { Clock, Timer } from '../shared/clock.js';

/**
 * A clock tests move by hand: `advance(ms)` fires due timers in time order, letting promises
 * settle between them, so a whole call runs deterministically and instantly.
 */
interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export async function flushPromises(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Pending[] = [];

  constructor(start = Date.parse('2026-01-01T12:00:00Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const pending: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(pending);
    return {
      cancel: () => {
        pending.cancelled = true;
      },
    };
  }

  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await flushPromises();
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: Pending | undefined;
      for (const t of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = target;
    await flushPromises();
  }

  /** Advances in steps until `done()` holds; throws after `maxMs`. */
  async until(done: () => boolean, maxMs = 120_000, stepMs = 20): Promise<void> {
    const limit = this.t + maxMs;
    while (!done()) {
      if (this.t >= limit) throw new Error(`condition not met within ${maxMs} ms of clock time`);
      await this.advance(stepMs);
    }
  }
}
