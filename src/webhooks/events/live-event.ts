/**
 * The live form of a recorded event, and where the outbox hands the events it commits: the
 * in-process hub and the PostgreSQL relay of live/ implement `LiveEventPublisher`; defined here,
 * below them, so that webhooks/ does not import live/.
 */
import type { EventType } from '../../contract/assistant-schema.js';
import type { EventMessage } from '../../contract/event-schemas.js';
import type { Db } from '../../db/database.js';

export interface LiveEvent {
  teamId: string;
  callId: string;
  type: EventType;
  /** The per-call sequence number of the webhook contract. */
  sequence: number;
  /** The event as a webhook body carries it: `{"message": <this>}`. */
  event: EventMessage;
}

/** What the outbox needs: somewhere to put recorded events. */
export interface LiveEventPublisher {
  /** After commit: an event of this process. */
  publish(event: LiveEvent): void;
  /**
   * Inside the recording transaction, after its events are inserted into `call_events`: tell
   * other processes (PostgreSQL NOTIFY, delivered only if and when the transaction commits).
   */
  beforeCommit?(tx: Db, messages: readonly EventMessage[]): Promise<void>;
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
