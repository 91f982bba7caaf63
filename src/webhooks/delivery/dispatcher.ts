/**
 * Sends notification deliveries: at once when they are recorded (no polling delay), in
 * sequence order per (call, endpoint) lane, with retries held in memory while they are short.
 * A sweeper claims whatever no live process holds (after a crash, or long retries), so the
 * table, not this memory, is the source of truth. Each attempt is prepared (signed), sent, and
 * settled by attempt-outcome.ts; its results are written in batches by result-writer.ts.
 *
 * Hand-written rather than pg-boss/graphile-worker: those poll (hundreds of ms to seconds of
 * latency), do not run on PGlite, and cannot give per-(call, endpoint) ordering with a bounded
 * hold; the outbox rows written in the state change's own transaction are the queue.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { buildSignedHeaders } from '../../shared/webhook-signing.js';
import { type SendResult, sendWebhook } from '../http/send.js';
import { settleAttempt } from './attempt-outcome.js';
import { attemptRecord, type DeliveryJob } from './delivery-job.js';
import { claimDueDeliveries, releaseLeases, renewLeases } from './delivery-store.js';
import { EndpointState, type PeerSignals } from './endpoint-state.js';
import { holdDeliveries } from './endpoint-store.js';
import { ResultWriter } from './result-writer.js';

export interface DispatcherOptions {
  allowPrivate: boolean;
  /** Later events of a (call, endpoint) wait this long at most for a failing earlier one. */
  orderingHoldMs: number;
  /** How often the sweeper looks for due deliveries it does not hold (crash recovery, long retries). */
  sweepIntervalMs: number;
  /** Lease on deliveries held in memory; renewed every third of it. A crashed owner's expire. */
  leaseMs: number;
  /** Retries sooner than this stay in memory; later ones go back to the table for the sweeper. */
  inMemoryRetryMs: number;
  /** Scales computed back-off (not a receiver's Retry-After): tests and benchmarks shrink it. */
  retryDelayScale: number;
  maxInFlight: number;
  maxResponseBytes: number;
  /** Results are written in batches, at most this long after the attempt. */
  flushDelayMs: number;
  random: () => number;
}

/** The dispatcher's place in a server: its identity and how it hears the others. */
export interface DispatcherWiring {
  /** Lease owner of the deliveries it holds: the server's instance id (default: a new one). */
  owner?: string;
  signals?: PeerSignals;
}

const defaultDispatcherOptions = {
  allowPrivate: false,
  orderingHoldMs: 30_000,
  sweepIntervalMs: 1_000,
  leaseMs: 10_000,
  inMemoryRetryMs: 60_000,
  retryDelayScale: 1,
  maxInFlight: 512,
  maxResponseBytes: 64 * 1024,
  flushDelayMs: 20,
  random: Math.random,
} as const satisfies DispatcherOptions;

interface Lane {
  key: string;
  jobs: DeliveryJob[];
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
  wakeAt: number;
  /** When an event sent past a failing earlier one failed too: the endpoint looks down. */
  bypassFailedAt: number | undefined;
}

export class Dispatcher {
  readonly owner: string;
  private readonly options: DispatcherOptions;
  /** Which endpoints are disabled (after a 410), shared with the other processes. */
  private readonly endpoints: EndpointState;
  private readonly lanes = new Map<string, Lane>();
  private readonly held = new Set<string>();
  private readonly waiting: Lane[] = [];
  private inFlight = 0;
  /** When each endpoint URL last accepted a delivery (ms). */
  private readonly lastSuccess = new Map<string, number>();
  private readonly results: ResultWriter;
  private sweepTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    options: Partial<DispatcherOptions> & DispatcherWiring = {},
  ) {
    const { owner, signals, ...rest } = options;
    this.options = { ...defaultDispatcherOptions, ...rest };
    this.owner = owner ?? `disp_${randomBytes(6).toString('hex')}`;
    this.endpoints = new EndpointState(db, logger, signals, () => void this.sweep());
    this.results = new ResultWriter(db, logger, this.options.flushDelayMs);
  }

  async start(): Promise<void> {
    await this.endpoints.start();
    this.sweepTimer = setInterval(() => void this.sweep(), this.options.sweepIntervalMs);
    this.renewTimer = setInterval(
      () =>
        void renewLeases(this.db, this.owner, this.options.leaseMs).catch((e) =>
          this.logger.warn({ err: e }, 'lease renewal failed'),
        ),
      Math.max(100, Math.floor(this.options.leaseMs / 3)),
    );
    void this.sweep();
  }

  /**
   * Stops sending; in-flight attempts finish and their results are written, then the leases of
   * the deliveries still pending are released (another server's sweeper sends them at once).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.results.stop();
    this.endpoints.stop();
    clearInterval(this.sweepTimer);
    clearInterval(this.renewTimer);
    for (const lane of this.lanes.values()) clearTimeout(lane.timer);
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.flush();
    // What is still pending goes to the other servers at once, not after its lease expires.
    const released = await releaseLeases(this.db, this.owner).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not release the delivery leases at shutdown');
      return 0;
    });
    if (released > 0) this.logger.info({ released }, 'pending deliveries released to the other servers');
  }

  /** The lease these deliveries should be inserted with, so no sweeper takes them meanwhile. */
  leaseUntil(now: number): number {
    return now + this.options.leaseMs;
  }

  isEndpointDisabled(teamId: string, url: string): boolean {
    return this.endpoints.isDisabled(teamId, url);
  }

  /**
   * Enables an endpoint for every process: its held deliveries are due again and sent (returns
   * how many); the other processes hear of it and send its new deliveries again.
   */
  enableEndpoint(teamId: string, url: string): Promise<number> {
    return this.endpoints.enable(teamId, url);
  }

  /** Hands freshly recorded (or claimed) deliveries to their lanes and starts sending. */
  enqueue(jobs: readonly DeliveryJob[]): void {
    if (this.stopped) return;
    const touched = new Set<Lane>();
    for (const job of jobs) {
      if (this.held.has(job.id)) continue;
      this.held.add(job.id);
      let lane = this.lanes.get(job.laneKey);
      if (!lane) {
        lane = {
          key: job.laneKey,
          jobs: [],
          busy: false,
          timer: undefined,
          wakeAt: Number.POSITIVE_INFINITY,
          bypassFailedAt: undefined,
        };
        this.lanes.set(job.laneKey, lane);
      }
      insertSorted(lane.jobs, job);
      touched.add(lane);
    }
    for (const lane of touched) this.pump(lane);
  }

  private pump(lane: Lane): void {
    if (lane.busy || this.stopped) return;
    if (this.inFlight >= this.options.maxInFlight) {
      if (!this.waiting.includes(lane)) this.waiting.push(lane);
      return;
    }
    const now = Date.now();
    let wake = Number.POSITIVE_INFINITY;
    let bypass = false;
    for (const job of lane.jobs) {
      if (job.nextAttemptAt <= now) {
        lane.busy = true;
        this.inFlight++;
        void this.attempt(job).then(
          (keep) => {
            if (bypass && keep) lane.bypassFailedAt = Date.now();
            this.afterAttempt(lane, job, keep);
          },
          (error: unknown) => {
            this.logger.error({ err: error, deliveryId: job.id }, 'delivery attempt crashed');
            this.afterAttempt(lane, job, false);
          },
        );
        return;
      }
      wake = Math.min(wake, job.nextAttemptAt);
      // A failing earlier event holds the lane's later ones back for a bounded time. After it,
      // the next event is sent past it; if that one fails too, the endpoint is down for
      // everything, and order is kept again until the endpoint accepts something.
      const holdEnds = (job.firstAttemptAt ?? job.createdAt) + this.options.orderingHoldMs;
      const lastSuccess = this.lastSuccess.get(job.target.url) ?? 0;
      const endpointLooksDown = lane.bypassFailedAt !== undefined && lane.bypassFailedAt > lastSuccess;
      if (holdEnds > now || endpointLooksDown) {
        wake = Math.min(wake, holdEnds);
        break;
      }
      bypass = true;
    }
    if (lane.jobs.length === 0) {
      this.lanes.delete(lane.key);
      return;
    }
    if (wake < Number.POSITIVE_INFINITY && wake !== lane.wakeAt) {
      clearTimeout(lane.timer);
      lane.wakeAt = wake;
      lane.timer = setTimeout(() => {
        lane.wakeAt = Number.POSITIVE_INFINITY;
        this.pump(lane);
      }, wake - now);
    }
  }

  private afterAttempt(lane: Lane, job: DeliveryJob, keep: boolean): void {
    lane.busy = false;
    this.inFlight--;
    if (!keep) {
      const i = lane.jobs.indexOf(job);
      if (i >= 0) lane.jobs.splice(i, 1);
      this.held.delete(job.id);
    }
    if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (this.inFlight === 0 && this.held.size === 0)
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    this.pump(lane);
    while (this.waiting.length > 0 && this.inFlight < this.options.maxInFlight) {
      const next = this.waiting.shift();
      if (next) this.pump(next);
    }
  }

  /** One attempt (prepare, send, settle); returns whether the job stays in memory for a retry. */
  private async attempt(job: DeliveryJob): Promise<boolean> {
    const attemptedAt = Date.now();
    const { target } = job;
    if (this.isEndpointDisabled(job.teamId, target.url)) return this.hold(job);
    const headers = buildSignedHeaders({
      eventId: job.eventId,
      eventType: job.eventType,
      timestampMs: attemptedAt,
      body: job.body,
      ...(target.secret ? { secret: target.secret } : {}),
      headers: target.headers,
    });
    const result: SendResult = await sendWebhook({
      url: target.url,
      headers,
      body: job.body,
      timeoutMs: target.timeoutMs,
      maxResponseBytes: this.options.maxResponseBytes,
      allowPrivate: this.options.allowPrivate,
    });
    const now = Date.now();
    job.attemptCount++;
    const firstAttemptAt = job.firstAttemptAt ?? attemptedAt;
    job.firstAttemptAt = firstAttemptAt;
    this.results.record(attemptRecord(job.id, target.url, attemptedAt, result));
    const settled = settleAttempt({ ...job, firstAttemptAt }, result, now, this.options);
    const { kind, update } = settled;
    if (kind === 'retry') job.nextAttemptAt = update.nextAttemptAt;
    if (settled.disable)
      await this.endpoints.disable(job.teamId, target.url, `410 Gone on delivery ${job.id}`);
    if (kind === 'delivered') this.lastSuccess.set(target.url, now);
    this.results.update(update);
    if (kind === 'failed')
      this.logger.warn(
        {
          deliveryId: job.id,
          eventId: job.eventId,
          url: target.url,
          status: result.statusCode,
          error: update.lastError,
        },
        'webhook delivery failed',
      );
    return settled.keep;
  }

  /**
   * Not sent: the endpoint is disabled. The delivery goes back to the table, held until the
   * endpoint is enabled (no attempt is counted). Returns whether it stays in memory.
   */
  private async hold(job: DeliveryJob): Promise<boolean> {
    // An earlier result of this delivery, still unwritten, must not overwrite the hold.
    await this.flush();
    try {
      await holdDeliveries(this.db, job.teamId, job.target.url, this.owner, [job.id]);
      return false;
    } catch (error) {
      this.logger.warn(
        { err: error, deliveryId: job.id },
        'could not hold a delivery of a disabled endpoint; retrying',
      );
      job.nextAttemptAt = Date.now() + 1_000;
      return true;
    }
  }

  /** Writes every finished attempt since the last flush (see result-writer.ts). */
  flush(): Promise<void> {
    return this.results.flush();
  }

  /** Resolves once every delivery this process holds is finished (tests, benchmarks, shutdown). */
  async drain(): Promise<void> {
    if (this.held.size > 0 || this.inFlight > 0) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    await this.flush();
  }

  private async sweep(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      for (;;) {
        const jobs = await claimDueDeliveries(
          this.db,
          this.owner,
          this.options.leaseMs,
          500,
          this.options.orderingHoldMs,
        );
        if (jobs.length > 0) this.enqueue(jobs);
        if (jobs.length < 500) break;
      }
    } catch (error) {
      this.logger.error({ err: error }, 'delivery sweep failed');
    } finally {
      this.sweeping = false;
    }
  }
}

function insertSorted(jobs: DeliveryJob[], job: DeliveryJob): void {
  let i = jobs.length;
  while (i > 0 && (jobs[i - 1] as DeliveryJob).sequence > job.sequence) i--;
  jobs.splice(i, 0, job);
}
