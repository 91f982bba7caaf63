import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { disableEndpoint, enableEndpoint, endpointKey, loadDisabledEndpoints } from './endpoint-store.js';

/**
 * How the processes sharing the database tell each other that shared state changed (PostgreSQL:
 * NOTIFY, see `PgLiveRelay`).
 */
export interface PeerSignals {
  /** Tells the other processes; resolves once sent. */
  signal(topic: string): Promise<void>;
  /**
   * Calls `listener` when another process signalled `topic`, and after the connection that
   * hears signals was (re)opened (some may have been missed). Returns the unsubscribe.
   */
  onSignal(topic: string, listener: () => void): () => void;
}

const TOPIC = 'webhook-endpoints';

/** Per database handle, in this process (PGlite: the servers on one handle): told directly. */
const localPeers = new WeakMap<Db, Set<EndpointState>>();

/**
 * One process's view of which webhook endpoints are disabled (after a `410 Gone`). The table
 * `webhook_endpoints` is the truth: a change is written there first, then applied here and
 * announced, and every other process reads the table again when told (`PeerSignals`, or
 * directly for servers on the same handle). Changes and reloads run one at a time, so a reload
 * never undoes a newer change.
 */
export class EndpointState {
  private disabled = new Set<string>();
  private ops: Promise<unknown> = Promise.resolve();
  private reloadQueued: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopSignals: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly signals: PeerSignals | undefined,
    /** Deliveries of an endpoint enabled (here or elsewhere) are due now: sweep them. */
    private readonly onResume: () => void,
  ) {}

  async start(): Promise<void> {
    this.stopSignals = this.signals?.onSignal(TOPIC, () => void this.reload());
    localPeers.set(this.db, (localPeers.get(this.db) ?? new Set<EndpointState>()).add(this));
    this.disabled = await loadDisabledEndpoints(this.db);
  }

  stop(): void {
    this.stopped = true;
    this.stopSignals?.();
    localPeers.get(this.db)?.delete(this);
    clearTimeout(this.retryTimer);
  }

  isDisabled(teamId: string, url: string): boolean {
    return this.disabled.has(endpointKey(teamId, url));
  }

  /** A `410 Gone`: disabled in the table, here at once, and in the other processes when told. */
  async disable(teamId: string, url: string, reason: string): Promise<void> {
    try {
      await this.serial(async () => {
        await disableEndpoint(this.db, teamId, url, reason);
        this.disabled.add(endpointKey(teamId, url));
      });
    } catch (error) {
      // Disabled nowhere: the next delivery to it meets the 410 again and tries again.
      this.logger.error({ err: error, url }, 'could not disable endpoint');
      return;
    }
    await this.announce();
  }

  /** Enables it everywhere; its held deliveries are due again. Returns how many. */
  async enable(teamId: string, url: string): Promise<number> {
    const { wasDisabled, resumed } = await this.serial(async () => {
      const result = await enableEndpoint(this.db, teamId, url);
      this.disabled.delete(endpointKey(teamId, url));
      return result;
    });
    if (wasDisabled) await this.announce();
    if (resumed > 0) this.onResume();
    return resumed;
  }

  /**
   * Reads the table again (another process changed it). Calls arriving while a reload waits
   * share it; one arriving while it runs queues the next.
   */
  reload(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.reloadQueued ??= this.serial(async () => {
      this.reloadQueued = undefined;
      const before = this.disabled;
      try {
        this.disabled = await loadDisabledEndpoints(this.db);
      } catch (error) {
        this.logger.warn({ err: error }, 'could not read disabled webhook endpoints; retrying');
        clearTimeout(this.retryTimer);
        if (!this.stopped) this.retryTimer = setTimeout(() => void this.reload(), 1_000);
        return;
      }
      if ([...before].some((key) => !this.disabled.has(key))) this.onResume();
    });
    return this.reloadQueued;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.ops.then(op);
    this.ops = run.catch(() => {});
    return run;
  }

  private async announce(): Promise<void> {
    for (const peer of localPeers.get(this.db) ?? []) if (peer !== this) void peer.reload();
    await this.signals
      ?.signal(TOPIC)
      .catch((e) => this.logger.warn({ err: e }, 'could not tell other processes of an endpoint change'));
  }
}
