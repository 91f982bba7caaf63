/**
 * Live call events: an in-process publish/subscribe hub. The outbox publishes every call event
 * it records, right after the transaction that stored it commits (so a subscriber never sees an
 * event that was rolled back), and `GET /v1/events/stream` forwards them to the dashboard.
 *
 * Scope: one process. On PostgreSQL, several Parley processes share the database, and
 * `PgLiveRelay` (pg-live-relay.ts) feeds each hub the events the other processes record too,
 * through `LISTEN`/`NOTIFY`. PGlite is single-process, so it needs nothing more than this hub.
 */
import type { LiveEvent, LiveEventPublisher } from '../webhooks/events/live-event.js';

export type { LiveEvent, LiveEventPublisher } from '../webhooks/events/live-event.js';

export interface LiveFilter {
  teamId: string;
  /** Only this call's events. */
  callId?: string;
}

export type LiveListener = (event: LiveEvent) => void;

/**
 * Hand-written: a Map of listener sets keyed by team. Node's EventEmitter would do the fan-out
 * but warns past 10 listeners, rethrows a listener's error into the publisher (the outbox), and
 * offers no filter; this is a dozen lines.
 */
export class LiveEventHub implements LiveEventPublisher {
  private readonly byTeam = new Map<string, Set<{ filter: LiveFilter; listener: LiveListener }>>();
  private total = 0;
  private readonly activity = new Set<(active: boolean) => void>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  /** Delivers `event` synchronously to the matching subscribers. Never throws. */
  publish(event: LiveEvent): void {
    const subscribers = this.byTeam.get(event.teamId);
    if (!subscribers) return;
    for (const { filter, listener } of [...subscribers]) {
      if (filter.callId !== undefined && filter.callId !== event.callId) continue;
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** Subscribes; returns the function that unsubscribes (idempotent). */
  subscribe(filter: LiveFilter, listener: LiveListener): () => void {
    let set = this.byTeam.get(filter.teamId);
    if (!set) {
      set = new Set();
      this.byTeam.set(filter.teamId, set);
    }
    const entry = { filter, listener };
    set.add(entry);
    if (++this.total === 1) this.activityChanged(true);
    return () => {
      const current = this.byTeam.get(filter.teamId);
      if (!current?.delete(entry)) return;
      if (current.size === 0) this.byTeam.delete(filter.teamId);
      if (--this.total === 0) this.activityChanged(false);
    };
  }

  /**
   * Calls `listener(true)` when the first subscriber arrives and `listener(false)` when the last
   * one leaves (the cross-process relay LISTENs only in between). Returns the unregister function.
   */
  onActivityChange(listener: (active: boolean) => void): () => void {
    this.activity.add(listener);
    return () => this.activity.delete(listener);
  }

  /** Whether an event of this team and call would reach any subscriber. */
  wants(teamId: string, callId: string): boolean {
    const subscribers = this.byTeam.get(teamId);
    if (!subscribers) return false;
    for (const { filter } of subscribers)
      if (filter.callId === undefined || filter.callId === callId) return true;
    return false;
  }

  private activityChanged(active: boolean): void {
    for (const listener of [...this.activity]) {
      try {
        listener(active);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** Current subscriptions (of one team, or all). */
  subscriberCount(teamId?: string): number {
    if (teamId !== undefined) return this.byTeam.get(teamId)?.size ?? 0;
    let n = 0;
    for (const set of this.byTeam.values()) n += set.size;
    return n;
  }
}
