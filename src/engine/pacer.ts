/**
 * One clock for all outgoing audio: every `frameMs` it asks each registered output to send its
 * next frame. One timer for the whole process (not one per call), scheduled on absolute times
 * so it does not drift; when the event loop falls behind it catches up (bounded) instead of
 * slowing the audio down. Lateness of every frame sent is recorded in a fixed histogram.
 */
import type { Clock, Timer } from '../shared/clock.js';

export interface PacedOutput {
  /** Send the frame due at `dueMs` (scheduled time); returns true if a frame was sent. */
  tick(dueMs: number): boolean;
}

const BUCKET_MS = 0.1;
const BUCKETS = 10_000;

export class JitterHistogram {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  count = 0;
  max = 0;

  record(lateMs: number): void {
    const ms = Math.max(0, lateMs);
    if (ms > this.max) this.max = ms;
    const bucket = Math.min(BUCKETS, Math.floor(ms / BUCKET_MS));
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.count++;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return (i + 1) * BUCKET_MS;
    }
    return this.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }
}

export class Pacer {
  private readonly outputs = new Set<PacedOutput>();
  private timer: Timer | undefined;
  private startMs = 0;
  private ticks = 0;
  readonly jitter = new JitterHistogram();

  constructor(
    private readonly clock: Clock,
    readonly frameMs = 20,
    /** High-resolution time for jitter measurement; defaults to the clock. */
    private readonly hrNow: () => number = () => clock.now(),
    private readonly maxCatchUpFrames = 5,
  ) {}

  get size(): number {
    return this.outputs.size;
  }

  add(output: PacedOutput): void {
    this.outputs.add(output);
    if (!this.timer) {
      this.startMs = this.hrNow();
      this.ticks = 0;
      this.schedule();
    }
  }

  remove(output: PacedOutput): void {
    this.outputs.delete(output);
    if (this.outputs.size === 0 && this.timer) {
      this.timer.cancel();
      this.timer = undefined;
    }
  }

  stop(): void {
    this.outputs.clear();
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    const next = this.startMs + (this.ticks + 1) * this.frameMs;
    this.timer = this.clock.setTimeout(() => this.run(), next - this.hrNow());
  }

  private run(): void {
    const now = this.hrNow();
    let due = Math.floor((now - this.startMs) / this.frameMs);
    if (due - this.ticks > this.maxCatchUpFrames) {
      // Too far behind (a stall): skip ahead rather than burst.
      this.ticks = due - this.maxCatchUpFrames;
    }
    if (due <= this.ticks) due = this.ticks + 1;
    while (this.ticks < due) {
      this.ticks++;
      const dueMs = this.startMs + this.ticks * this.frameMs;
      for (const output of this.outputs) {
        if (output.tick(dueMs)) this.jitter.record(this.hrNow() - dueMs);
      }
    }
    if (this.outputs.size > 0) this.schedule();
    else this.timer = undefined;
  }
}
