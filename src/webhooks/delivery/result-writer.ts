/**
 * The dispatcher's writes of attempt results: batched (at most `flushDelayMs` after an attempt),
 * one flush at a time, one update per delivery (its latest). A write that fails on a lost
 * connection, a restart or a cancelled statement is kept (ahead of newer results) and written
 * again after a back-off; meanwhile the rows stay leased by the process (renewed), so no sweeper
 * sends a delivered event again.
 */
import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { isTransientDbError } from '../../db/transient-error.js';
import type { AttemptRecord, DeliveryUpdate } from './delivery-job.js';
import { writeAttemptResults } from './delivery-store.js';

export class ResultWriter {
  private pendingAttempts: AttemptRecord[] = [];
  private pendingUpdates: DeliveryUpdate[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private flushRetryTimer: NodeJS.Timeout | undefined;
  private flushFailures = 0;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly flushDelayMs: number,
  ) {}

  record(attempt: AttemptRecord): void {
    this.pendingAttempts.push(attempt);
    this.scheduleFlush();
  }

  update(update: DeliveryUpdate): void {
    this.pendingUpdates.push(update);
    this.scheduleFlush();
  }

  /** No retry of a failed write is scheduled after this (a last flush() still writes). */
  stop(): void {
    this.stopped = true;
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.flushDelayMs);
  }

  /** Writes every result recorded since the last flush; resolves once written (or kept). */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    clearTimeout(this.flushRetryTimer);
    this.flushRetryTimer = undefined;
    this.flushing = this.flushing.then(async () => {
      const attempts = this.pendingAttempts;
      const updates = latestPerDelivery(this.pendingUpdates);
      if (attempts.length === 0 && updates.length === 0) return;
      this.pendingAttempts = [];
      this.pendingUpdates = [];
      try {
        await writeAttemptResults(this.db, attempts, updates);
        this.flushFailures = 0;
      } catch (error) {
        if (!isTransientDbError(error)) {
          // Cannot succeed on retry; the rows stay pending and their lease expires: re-sent.
          this.logger.error({ err: error, count: updates.length }, 'could not write delivery results');
          return;
        }
        this.pendingAttempts = attempts.concat(this.pendingAttempts);
        this.pendingUpdates = updates.concat(this.pendingUpdates);
        this.flushFailures++;
        const retryInMs = Math.min(100 * 2 ** (this.flushFailures - 1), 5_000);
        this.logger.error(
          { err: error, count: updates.length, attempt: this.flushFailures, retryInMs },
          'could not write delivery results; retrying',
        );
        if (!this.stopped)
          this.flushRetryTimer = setTimeout(() => {
            this.flushRetryTimer = undefined;
            void this.flush();
          }, retryInMs);
      }
    });
    return this.flushing;
  }
}

/** One update per delivery (the latest), in the order of their latest results. */
function latestPerDelivery(updates: readonly DeliveryUpdate[]): DeliveryUpdate[] {
  const latest = new Map<string, DeliveryUpdate>();
  for (const u of updates) {
    latest.delete(u.id);
    latest.set(u.id, u);
  }
  return [...latest.values()];
}
