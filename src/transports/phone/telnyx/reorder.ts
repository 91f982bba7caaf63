/**
 * Puts messages back in `sequence_number` order. Telnyx does not guarantee the order of media
 * frames ("Media frame order is not guaranteed. Use media.chunk, media.timestamp, and
 * sequence_number to order frames", Telnyx AsyncAPI "Stream call media over WebSocket").
 * In-order input passes straight through; a hole holds later messages until the missing one
 * arrives or `window` messages wait, then the hole is reported as lost (the caller fills it with
 * silence) and a message arriving after its slot was given up is dropped as late.
 */
export interface ReorderSink<T> {
  deliver(item: T): void;
  /** `count` sequence numbers were never seen (lost or too late). */
  lost(count: number): void;
}

export type PushResult = 'delivered' | 'held' | 'late' | 'duplicate';

export class ReorderBuffer<T> {
  private expected: number | undefined;
  private readonly held = new Map<number, T>();

  constructor(
    private readonly window: number,
    private readonly sink: ReorderSink<T>,
  ) {
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be ≥ 1, got ${window}`);
  }

  /** The next sequence number expected (e.g. the `start` message's number + 1). */
  expect(next: number): void {
    this.expected = next;
  }

  get holding(): number {
    return this.held.size;
  }

  push(sequence: number, item: T): PushResult {
    if (this.expected === undefined) this.expected = sequence;
    if (sequence < this.expected) return 'late';
    if (this.held.has(sequence)) return 'duplicate';
    this.held.set(sequence, item);
    this.drain();
    while (this.held.size > this.window) this.skipToLowest();
    return this.held.has(sequence) ? 'held' : 'delivered';
  }

  /** Delivers everything held, in order, reporting the holes (end of stream). */
  flush(): void {
    while (this.held.size > 0) this.skipToLowest();
  }

  private drain(): void {
    let next = this.expected;
    if (next === undefined) return;
    while (this.held.has(next)) {
      const item = this.held.get(next) as T;
      this.held.delete(next);
      next += 1;
      this.expected = next;
      this.sink.deliver(item);
    }
  }

  private skipToLowest(): void {
    let lowest = Number.POSITIVE_INFINITY;
    for (const key of this.held.keys()) if (key < lowest) lowest = key;
    const expected = this.expected ?? lowest;
    if (lowest > expected) this.sink.lost(lowest - expected);
    this.expected = lowest;
    this.drain();
  }
}
