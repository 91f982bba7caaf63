import type { Clock, Timer } from '../shared/clock.js';

/** The named one-shot timers of a call (idle, hang, max duration …): setting one replaces it. */
export class CallTimers<Name extends string> {
  private readonly timers = new Map<Name, Timer>();

  constructor(private readonly clock: Clock) {}

  set(name: Name, ms: number, fn: () => void): void {
    this.cancel(name);
    this.timers.set(
      name,
      this.clock.setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, ms),
    );
  }

  cancel(name: Name): void {
    this.timers.get(name)?.cancel();
    this.timers.delete(name);
  }

  cancelAll(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}
