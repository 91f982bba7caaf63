/**
 * The conversation tracker: feed it a call's events in any order, with duplicates and replays,
 * and it reports each new message once, in conversation order, each message's later revision
 * (an assistant reply cut off by the caller: `interrupted`, text reduced to what was heard) once,
 * each skipped assistant message once, each call status once, and the end-of-call report once.
 *
 * Every conversation-update (and hang, error, end-of-call-report) carries the whole history so
 * far, so the newest event seen is the truth: messages are taken in its order, and an event with
 * a lower `sequence` than one already applied can add nothing new except messages it alone has.
 * Duplicates are recognised by the event `id` (stable across retries and replays).
 *
 * The state is plain JSON (`toJSON()`, `new ConversationTracker(state)`), so a receiver keeps it
 * in its own store between requests.
 */
import type { Call, ConversationMessage, EndOfCallReportEvent, WebhookEvent } from './generated/types.js';

export type TrackerChange =
  | { kind: 'message'; callId: string; message: ConversationMessage; sequence: number }
  | { kind: 'message-updated'; callId: string; message: ConversationMessage; sequence: number }
  | { kind: 'interruption'; callId: string; messageId: string; heardText: string; sequence: number }
  | {
      kind: 'skipped';
      callId: string;
      /** The user message that displaced the skipped reply. */
      userMessageId: string;
      skipped: { messageId: string; text: string; timestamp: number };
      sequence: number;
    }
  | {
      kind: 'status';
      callId: string;
      status: Call['status'];
      phoneCallStatus: Call['phoneCallStatus'];
      reason: string;
      previous: Call['status'] | undefined;
      sequence: number;
    }
  | { kind: 'report'; callId: string; event: EndOfCallReportEvent; sequence: number };

export interface TrackerResult {
  /** The event's id was seen before (a retry or replay): nothing new. */
  duplicate: boolean;
  changes: TrackerChange[];
}

interface MessageState {
  /** Fingerprint of the version reported. */
  f: string;
  /** Sequence of the event that carried that version. */
  s: number;
}

interface CallState {
  /** Event ids seen. */
  ids: string[];
  /** Highest sequence applied. */
  seq: number;
  /** Messages reported, by messageId, in order of first report. */
  messages: Record<string, MessageState>;
  order: string[];
  /** Messages whose interruption was reported. */
  interrupted: string[];
  /** Skipped assistant messages reported (their messageIds). */
  skipped: string[];
  /** Statuses reported, in order (`status/phoneCallStatus`). */
  statuses: string[];
  /** Lifecycle rank of the latest status reported. */
  rank: number;
  reported: boolean;
}

export interface TrackerState {
  version: 1;
  calls: Record<string, CallState>;
}

const RANK: Record<string, number> = { queued: 0, ongoing: 1, finished: 2, forwarded: 2 };

/** A short, stable fingerprint of a message version (FNV-1a over its JSON). */
function fingerprint(message: ConversationMessage): string {
  const json = JSON.stringify([
    message.text,
    message.interrupted ?? false,
    message.skippedAssistantMessages ?? [],
  ]);
  let h = 0x811c9dc5;
  for (let i = 0; i < json.length; i++) {
    h ^= json.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${json.length}:${h.toString(36)}`;
}

export class ConversationTracker {
  private readonly state: TrackerState;

  constructor(state?: TrackerState) {
    if (state !== undefined && (state?.version !== 1 || typeof state.calls !== 'object')) {
      throw new TypeError('not a ConversationTracker state (version 1)');
    }
    this.state = state ? (JSON.parse(JSON.stringify(state)) as TrackerState) : { version: 1, calls: {} };
  }

  /** Applies one event (the parsed body, `{message}`); returns what is new. */
  push(event: WebhookEvent): TrackerResult {
    const m = event.message;
    const callId = m.call.id;
    let call = this.state.calls[callId];
    if (!call) {
      call = {
        ids: [],
        seq: 0,
        messages: {},
        order: [],
        interrupted: [],
        skipped: [],
        statuses: [],
        rank: -1,
        reported: false,
      };
      this.state.calls[callId] = call;
    }
    if (call.ids.includes(m.id)) return { duplicate: true, changes: [] };
    call.ids.push(m.id);
    const sequence = m.sequence;
    const changes: TrackerChange[] = [];

    const statusKey = `${m.call.status}/${m.call.phoneCallStatus}`;
    const rank = RANK[m.call.status] ?? 0;
    if (!call.statuses.includes(statusKey) && rank >= call.rank) {
      const previous = call.statuses.at(-1)?.split('/')[0] as Call['status'] | undefined;
      call.statuses.push(statusKey);
      call.rank = rank;
      changes.push({
        kind: 'status',
        callId,
        status: m.call.status,
        phoneCallStatus: m.call.phoneCallStatus,
        reason: m.call.phoneCallStatusReason,
        previous,
        sequence,
      });
    }

    if ('messages' in m && Array.isArray(m.messages)) {
      for (const message of m.messages) this.applyMessage(call, callId, message, sequence, changes);
    }
    if (m.type === 'end-of-call-report' && !call.reported) {
      call.reported = true;
      changes.push({ kind: 'report', callId, event: event as EndOfCallReportEvent, sequence });
    }
    call.seq = Math.max(call.seq, sequence);
    return { duplicate: false, changes };
  }

  private applyMessage(
    call: CallState,
    callId: string,
    message: ConversationMessage,
    sequence: number,
    changes: TrackerChange[],
  ): void {
    const known = call.messages[message.messageId];
    const f = fingerprint(message);
    if (!known) {
      call.messages[message.messageId] = { f, s: sequence };
      call.order.push(message.messageId);
      changes.push({ kind: 'message', callId, message, sequence });
    } else if (known.f !== f && sequence > known.s) {
      known.f = f;
      known.s = sequence;
      changes.push({ kind: 'message-updated', callId, message, sequence });
    } else {
      return;
    }
    if (message.interrupted && !call.interrupted.includes(message.messageId)) {
      call.interrupted.push(message.messageId);
      changes.push({
        kind: 'interruption',
        callId,
        messageId: message.messageId,
        heardText: message.text,
        sequence,
      });
    }
    for (const skipped of message.skippedAssistantMessages ?? []) {
      if (call.skipped.includes(skipped.messageId)) continue;
      call.skipped.push(skipped.messageId);
      changes.push({ kind: 'skipped', callId, userMessageId: message.messageId, skipped, sequence });
    }
  }

  /** Message ids reported for a call, in conversation order. */
  messageIds(callId: string): readonly string[] {
    return this.state.calls[callId]?.order ?? [];
  }

  /** Drops a call's state (after its report, once the receiver has stored what it needs). */
  forget(callId: string): void {
    delete this.state.calls[callId];
  }

  /** The state as plain JSON. */
  toJSON(): TrackerState {
    return JSON.parse(JSON.stringify(this.state)) as TrackerState;
  }
}
