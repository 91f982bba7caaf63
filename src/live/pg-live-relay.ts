/**
 * Live call events across Parley processes that share one PostgreSQL database (PostgreSQL only:
 * PGlite is one process and keeps using the bare in-process hub).
 *
 * How it works
 * - Sending: the outbox calls `beforeCommit` inside the transaction that inserts the events into
 *   `call_events`; it issues one `pg_notify(channel, '{"o":origin,"e":event id,"t":team,"c":call}')`
 *   per event, in one statement. PostgreSQL delivers notifications only if and when that
 *   transaction commits, and in commit order, so a listener is never told of a rolled-back event
 *   and hears of a call's events in sequence order. The payload never carries the event itself
 *   (NOTIFY payloads must stay under 8000 bytes); if team and call ids would make it too long they
 *   are left out and the listener fetches the event unfiltered. The process still publishes its
 *   own events to its hub right after commit, as before.
 * - Receiving: one dedicated `pg.Client` per process (not from the Kysely pool, whose connections
 *   come and go) LISTENs on the channel. A notification whose origin is this process is skipped
 *   (already published locally); so is one whose team and call no local subscriber wants.
 *   The others' event ids are collected for `coalesceMs` (or until `maxBatch`), fetched with one
 *   `select … from call_events where id in (…)` through the pool, and published to the hub in
 *   the order the notifications came. One batch is fetched at a time, so order holds; the
 *   notifications arriving meanwhile make the next batch (larger batches under load).
 * - Channel: one per database schema (`parley_events` in `public`, `parley_events.<schema>`
 *   otherwise, hashed when that would exceed PostgreSQL's 63-byte identifiers), taken from the
 *   pool's `current_schema()`, so that deployments (and test files) in different schemas of one
 *   database do not hear each other. `channel` overrides it.
 * - The LISTEN connection is opened at start and kept, with TCP keep-alive. When it drops (server
 *   restart, `pg_terminate_backend`, network), the relay logs a warning, reconnects with
 *   exponential back-off (`reconnectMs`, doubling up to `maxReconnectMs`), logs when it is back
 *   and LISTENs again if needed. Closing the server closes it.
 *
 * Cost, and the choice made: the connection is always held (one per process), but the relay
 * LISTENs only while the hub has subscribers and UNLISTENs when the last one leaves. A process
 * nobody watches therefore receives no event notifications at all (only the rare signals
 * below), instead of parsing and discarding every event of every other process (N processes ×
 * all events/s). While someone
 * watches, the cost is one notification per event received, and one indexed query per batch of
 * remote events that a local subscriber wants. On the sending side, every recorded event costs
 * a NOTIFY whether or not anyone listens anywhere (the sender cannot know): small, and the
 * outbox's group commit makes it one extra statement per transaction; PostgreSQL does serialise
 * the commits of notifying transactions database-wide (a short lock held during commit).
 *
 * Signals: rare changes of shared state that every process must hear at once (a webhook endpoint
 * disabled or enabled) go on a second channel (`parley_control…`, same naming), LISTENed for as
 * long as the connection is open: `signal(topic)` sends `{"o":origin,"k":topic}`, `onSignal`
 * hears the other processes' signals. Each time the connection is (re)opened, every signal
 * listener is called once, since signals sent meanwhile were missed.
 *
 * Limits: notifications are not stored. Events committed by other processes while this process
 * is not LISTENing (before its first subscriber's LISTEN has taken effect, or while reconnecting)
 * are not relayed live; they stay readable in `call_events` (a `?callId=` stream resumes with
 * `Last-Event-ID`). The relay is at-most-once, like the in-process hub.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { EventMessage } from '../contract/event-schemas.js';
import type { Db } from '../db/database.js';
import { rehydrate } from '../webhooks/events/event-storage.js';
import { type LiveEvent, type LiveEventPublisher, liveEventOf } from '../webhooks/events/live-event.js';
import type { LiveEventHub } from './live-events.js';

export interface PgLiveRelayOptions {
  db: Db;
  hub: LiveEventHub;
  logger: Logger;
  /**
   * Connection string of the dedicated LISTEN connection (the database the pool uses; the schema
   * does not matter to it). Without one, this process only notifies others.
   */
  connectionString?: string | undefined;
  /** NOTIFY/LISTEN channel; default derived from the pool's schema. */
  channel?: string | undefined;
  /** This process's id in its notifications: the server's instance id (default: a new one). */
  origin?: string | undefined;
  /** Notifications arriving within this window are fetched together. */
  coalesceMs?: number;
  /** At most this many events per fetch. */
  maxBatch?: number;
  /** First reconnection delay; doubles up to `maxReconnectMs`. */
  reconnectMs?: number;
  maxReconnectMs?: number;
}

/** PostgreSQL's identifier limit (NAMEDATALEN - 1); pg_notify refuses longer channel names. */
const MAX_CHANNEL_BYTES = 63;
/** NOTIFY's payload limit is 8000 bytes; stay clear of it. */
const MAX_PAYLOAD_BYTES = 7_900;

/** The channel of a schema: `parley_events` in `public`, `parley_events.<schema>` otherwise. */
export function channelOf(schema: string | null | undefined): string {
  if (!schema || schema === 'public') return 'parley_events';
  const channel = `parley_events.${schema}`;
  if (Buffer.byteLength(channel) <= MAX_CHANNEL_BYTES) return channel;
  return `parley_events.${createHash('sha256').update(schema).digest('hex').slice(0, 40)}`;
}

/** The signal channel beside an events channel (`parley_events…` → `parley_control…`). */
function controlChannelOf(channel: string): string {
  const control = channel.replace(/^parley_events/, 'parley_control');
  return control === channel ? `${channel}.control`.slice(0, MAX_CHANNEL_BYTES) : control;
}

interface Notice {
  /** Origin: the relay (process) that recorded the event. */
  o: string;
  /** Event id. */
  e: string;
  t?: string;
  c?: string;
}

export class PgLiveRelay implements LiveEventPublisher {
  /** Identifies this process's notifications (a process may hold several Parley instances). */
  readonly origin: string;
  /** Where signals go (see the class comment). */
  readonly controlChannel: string;
  private readonly signalListeners = new Map<string, Set<() => void>>();
  private readonly coalesceMs: number;
  private readonly maxBatch: number;
  private readonly reconnectMs: number;
  private readonly maxReconnectMs: number;
  private client: pg.Client | undefined;
  private pid: number | undefined;
  private listeningOn: pg.Client | undefined;
  private closed = false;
  private everConnected = false;
  private backoff: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private pending: string[] = [];
  /** LISTEN/UNLISTEN statements, one at a time. */
  private listenOps: Promise<void> = Promise.resolve();
  /** The fetch-and-publish batch in flight: one at a time (keeps notification order). */
  private fetching: Promise<void> | undefined;
  private readonly stopWatching: () => void;
  /** Counters: notifications from other processes, those no subscriber wanted, fetch queries, events published. */
  readonly stats = { notices: 0, unwanted: 0, fetches: 0, relayed: 0 };

  private constructor(
    private readonly options: PgLiveRelayOptions,
    readonly channel: string,
  ) {
    this.origin = options.origin ?? randomUUID();
    this.controlChannel = controlChannelOf(channel);
    this.coalesceMs = options.coalesceMs ?? 5;
    this.maxBatch = options.maxBatch ?? 500;
    this.reconnectMs = options.reconnectMs ?? 250;
    this.maxReconnectMs = options.maxReconnectMs ?? 10_000;
    this.backoff = this.reconnectMs;
    this.stopWatching = options.hub.onActivityChange(() => this.syncListen());
  }

  /** Derives the channel and opens the LISTEN connection (a failure there is retried, not thrown). */
  static async start(options: PgLiveRelayOptions): Promise<PgLiveRelay> {
    let channel = options.channel;
    if (!channel) {
      const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
        options.db,
      );
      channel = channelOf(rows[0]?.schema);
    }
    const relay = new PgLiveRelay(options, channel);
    if (options.connectionString) await relay.connect();
    else
      options.logger.info(
        { channel },
        'live events: no connection string for a LISTEN connection; events of other processes are not received',
      );
    return relay;
  }

  /** Whether this process is LISTENing now (it does while the hub has subscribers). */
  get listening(): boolean {
    return this.listeningOn !== undefined && this.listeningOn === this.client;
  }

  /** Backend pid of the LISTEN connection, while connected. */
  get listenerPid(): number | undefined {
    return this.client ? this.pid : undefined;
  }

  publish(event: LiveEvent): void {
    this.options.hub.publish(event);
  }

  async beforeCommit(tx: Db, messages: readonly EventMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const payloads = messages.map((m) => {
      const full = JSON.stringify({ o: this.origin, e: m.id, t: m.call.teamId, c: m.call.id });
      return Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES
        ? full
        : JSON.stringify({ o: this.origin, e: m.id });
    });
    // unnest yields the array in order, and notifications queue in the order they are issued.
    await sql`select pg_notify(${this.channel}, p) from unnest(${payloads}::text[]) as u(p)`.execute(tx);
  }

  /** Tells the other processes sharing the database that `topic` changed (sent through the pool). */
  async signal(topic: string): Promise<void> {
    await sql`select pg_notify(${this.controlChannel}, ${JSON.stringify({ o: this.origin, k: topic })})`.execute(
      this.options.db,
    );
  }

  /** Calls `listener` on the other processes' signals of `topic`, and after a reconnection. */
  onSignal(topic: string, listener: () => void): () => void {
    const listeners = this.signalListeners.get(topic) ?? new Set<() => void>();
    this.signalListeners.set(topic, listeners.add(listener));
    return () => listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.flushTimer);
    this.pending = [];
    const client = this.client;
    this.client = undefined;
    this.listeningOn = undefined;
    await client?.end().catch(() => {});
    await this.fetching;
  }

  private async connect(): Promise<void> {
    const { connectionString, logger } = this.options;
    const client = new pg.Client({
      connectionString,
      application_name: 'parley-live',
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
    });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client !== client) return;
      this.client = undefined;
      this.listeningOn = undefined;
      if (this.closed) return;
      logger.warn(
        { err, channel: this.channel, retryInMs: this.backoff },
        'live events: LISTEN connection lost; reconnecting (events of other processes are not relayed meanwhile)',
      );
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (n) => {
      if (n.channel === this.channel && n.payload) this.onNotice(n.payload);
      else if (n.channel === this.controlChannel && n.payload) this.onSignalNotice(n.payload);
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      if (this.closed) {
        lost = true;
        await client.end().catch(() => {});
        return;
      }
      this.pid = rows[0]?.pid;
      this.client = client;
      this.backoff = this.reconnectMs;
      if (this.everConnected)
        logger.info({ channel: this.channel, pid: this.pid }, 'live events: LISTEN connection restored');
      else logger.debug({ channel: this.channel, pid: this.pid }, 'live events: LISTEN connection open');
      this.everConnected = true;
      this.listenControl(client);
      this.syncListen();
    } catch (err) {
      lost = true;
      await client.end().catch(() => {});
      if (this.closed) return;
      logger.warn(
        { err, channel: this.channel, retryInMs: this.backoff },
        'live events: could not open the LISTEN connection; retrying',
      );
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.maxReconnectMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  /**
   * LISTENs for signals on a new connection, then calls every listener once: signals sent while
   * no connection listened (a reconnection, a first connection that failed) were missed.
   */
  private listenControl(client: pg.Client): void {
    this.listenOps = this.listenOps.then(async () => {
      if (this.closed || this.client !== client) return;
      try {
        await client.query(`LISTEN ${client.escapeIdentifier(this.controlChannel)}`);
      } catch (err) {
        // The connection failed: its 'error'/'end' handler reconnects, and LISTENs again then.
        this.options.logger.debug({ err, channel: this.controlChannel }, 'signals: LISTEN failed');
        return;
      }
      for (const listeners of this.signalListeners.values()) this.callAll(listeners);
    });
  }

  private onSignalNotice(payload: string): void {
    if (this.closed) return;
    let notice: { o?: unknown; k?: unknown };
    try {
      notice = JSON.parse(payload) as { o?: unknown; k?: unknown };
    } catch {
      return;
    }
    if (notice.o === this.origin || typeof notice.k !== 'string') return;
    const listeners = this.signalListeners.get(notice.k);
    if (listeners) this.callAll(listeners);
  }

  private callAll(listeners: Set<() => void>): void {
    for (const listener of listeners) {
      try {
        listener();
      } catch (err) {
        this.options.logger.error({ err }, 'signal listener failed');
      }
    }
  }

  /** LISTEN while the hub has subscribers, UNLISTEN otherwise (queued; never throws). */
  private syncListen(): void {
    this.listenOps = this.listenOps.then(async () => {
      // (Never rejects: a failure is caught below, so the queue keeps going.)
      const client = this.client;
      if (this.closed || !client) return;
      const want = this.options.hub.subscriberCount() > 0;
      if (want === (this.listeningOn === client)) return;
      try {
        await client.query(`${want ? 'LISTEN' : 'UNLISTEN'} ${client.escapeIdentifier(this.channel)}`);
        if (this.client === client) this.listeningOn = want ? client : undefined;
      } catch (err) {
        // The connection failed: its 'error'/'end' handler reconnects, and LISTENs again then.
        this.options.logger.debug({ err, channel: this.channel }, 'live events: LISTEN/UNLISTEN failed');
      }
    });
  }

  private onNotice(payload: string): void {
    if (this.closed) return;
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      return;
    }
    if (typeof notice.e !== 'string' || notice.o === this.origin) return;
    this.stats.notices++;
    if (
      typeof notice.t === 'string' &&
      typeof notice.c === 'string' &&
      !this.options.hub.wants(notice.t, notice.c)
    ) {
      this.stats.unwanted++;
      return;
    }
    this.pending.push(notice.e);
    // While a batch is being fetched, the next one grows; it goes as soon as that one is done.
    if (this.fetching) return;
    if (this.pending.length >= this.maxBatch) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.coalesceMs);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.fetching || this.closed) return;
    const ids = this.pending.splice(0, this.maxBatch);
    if (ids.length === 0) return;
    this.fetching = this.fetchAndPublish(ids)
      .catch((err: unknown) =>
        this.options.logger.warn({ err, events: ids.length }, 'live events: could not relay events'),
      )
      .finally(() => {
        this.fetching = undefined;
        if (this.pending.length > 0) this.flush();
      });
  }

  private async fetchAndPublish(ids: string[]): Promise<void> {
    if (this.closed) return;
    let byId: Map<string, EventMessage>;
    this.stats.fetches++;
    try {
      const rows = await this.options.db
        .selectFrom('call_events')
        .select(['id', 'call_id', 'payload', 'message_refs'])
        .where('id', 'in', ids)
        .execute();
      // Stored events hold their conversation as refs: rebuilt as sent.
      const events = await rehydrate(this.options.db, rows);
      byId = new Map(rows.map((row, i) => [row.id, events[i] as EventMessage]));
    } catch (err) {
      this.options.logger.warn(
        { err, events: ids.length },
        'live events: could not read events of other processes',
      );
      return;
    }
    if (this.closed) return;
    for (const id of ids) {
      const message = byId.get(id);
      // Gone already (the call was deleted): nothing to show.
      if (message === undefined) continue;
      this.stats.relayed++;
      this.options.hub.publish(liveEventOf(message));
    }
  }
}
