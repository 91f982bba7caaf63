import type { EventType } from '../assistants/assistant-schema.js';
import type { EventMessage } from '../webhooks/events/event-schemas.js';

/**
 * Live call events: an in-process publish/subscribe hub. The outbox publishes every call event
 * it records, right after the transaction that stored it commits (so a subscriber never sees an
 * event that was rolled back), and `GET /v1/events/stream` forwards them to the dashboard.
 *
 * Scope: one process. Several Parley processes sharing one PostgreSQL database would each see
 * only the calls they run; across processes this hub would be fed by PostgreSQL
 * `LISTEN`/`NOTIFY` instead: the outbox's transaction issues `pg_notify('parley_events',
 * <event id>)` (delivered at commit, in commit order), and each process LISTENs and publishes
 * what it is told (reading the payload from `call_events` when it exceeds NOTIFY's 8 KB).
 * PGlite is single-process, so it needs nothing more than this.
 */
export interface LiveEvent {
  teamId: string;
  callId: string;
  type: EventType;
  /** The per-call sequence number of the webhook contract. */
  sequence: number;
  /** The event as a webhook body carries it: `{"message": <this>}`. */
  event: EventMessage;
}

export interface LiveFilter {
  teamId: string;
  /** Only this call's events. */
  callId?: string;
}

export type LiveListener = (event: LiveEvent) => void;

/** What the outbox needs: somewhere to put recorded events. */
export interface LiveEventPublisher {
  publish(event: LiveEvent): void;
}

/**
 * Hand-written: a Map of listener sets keyed by team. Node's EventEmitter would do the fan-out
 * but warns past 10 listeners, rethrows a listener's error into the publisher (the outbox), and
 * offers no filter; this is a dozen lines.
 */
export class LiveEventHub implements LiveEventPublisher {
  private readonly byTeam = new Map<string, Set<{ filter: LiveFilter; listener: LiveListener }>>();

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
    return () => {
      const current = this.byTeam.get(filter.teamId);
      if (!current?.delete(entry)) return;
      if (current.size === 0) this.byTeam.delete(filter.teamId);
    };
  }

  /** Current subscriptions (of one team, or all). */
  subscriberCount(teamId?: string): number {
    if (teamId !== undefined) return this.byTeam.get(teamId)?.size ?? 0;
    let n = 0;
    for (const set of this.byTeam.values()) n += set.size;
    return n;
  }
}

/** The live form of a recorded event. */
export function liveEventOf(message: EventMessage): LiveEvent {
  return {
    teamId: message.call.teamId,
    callId: message.call.id,
    type: message.type,
    sequence: message.sequence,
    event: message,
  };
}
