/**
 * How call events are stored without copying the conversation into every row.
 *
 * The contract puts the whole history (`messages`) into every conversation-update, hang, error
 * and end-of-call-report, so storing events as sent grows with the square of the conversation
 * (400 messages of 4,000 characters: 1.6 MB said, ~750 MB stored). Instead:
 * - `call_messages(call_id, hash, body)` holds each distinct version of a message once: `body`
 *   is its JSON exactly as the events carry it, `hash` the first 22 base64url characters of its
 *   SHA-256 (inserted with `on conflict do nothing`, so any process may write it again).
 * - `call_events.payload` is the event with `"messages": null`, and `call_events.message_refs`
 *   says which messages it carried: `{"cp", "base", "keep", "add"}`, i.e. the first `keep` refs
 *   of the list of event `base` (an earlier sequence of the same call) followed by `add`; or, in
 *   a checkpoint (`base: null`, `cp` its own sequence), the whole list in `add`. `cp` is the
 *   checkpoint the chain starts from, so a reader fetches the chain in one range query.
 *   A checkpoint is written when no earlier list is known (first event, another process,
 *   recovery) and once a chain is max(16, n/4) deltas long for a list of n messages, which keeps
 *   both the refs stored per event and the rows read to rebuild one bounded and amortised O(1).
 * - Readers (`rehydrate`, `loadCallEvents`, `lastConversationOf`) put the messages back: the
 *   rebuilt event serialises (JSON.stringify) to exactly the bytes first sent, since every part
 *   was produced by JSON.stringify and JSON round-trips it. Rows without `message_refs` (no
 *   messages, or written before migration 0006) are read as stored.
 */
import { createHash } from 'node:crypto';
import type { EventMessage } from '../../contract/event-schemas.js';
import type { Db } from '../../db/database.js';

export interface MessageRefs {
  /** The checkpoint this chain starts at (its own sequence when it is one). */
  cp: number;
  /** The earlier event whose list this one extends; null for a checkpoint. */
  base: number | null;
  /** How many refs of the base's list come first. */
  keep: number;
  /** The refs that follow them. */
  add: string[];
}

/** A stored row, as the readers select it. */
export interface StoredEventRow {
  call_id: string | null;
  payload: unknown;
  message_refs: unknown;
}

const MIN_CHAIN = 16;

function messageHash(json: string): string {
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

/** Whether two plain JSON values serialise identically (key order included). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.prototype) return false;
  if (Object.getPrototypeOf(b) !== Object.prototype) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i] as string;
    if (k !== kb[i] || !sameJson(ra[k], rb[k])) return false;
  }
  return true;
}

/** The last list of refs committed for a call (the base of its next delta). */
interface ChainState {
  sequence: number;
  cp: number;
  depth: number;
  refs: string[];
  /** The messages those refs stand for (compared with the next list instead of re-hashing). */
  messages: readonly unknown[];
}

/** What one batch stores: the rows' columns, the new message bodies, and the state to keep. */
export interface CompactedBatch {
  /** The `call_events` rows, in the events' order. */
  rows: {
    id: string;
    team_id: string;
    call_id: string;
    sequence: number;
    type: string;
    payload: string;
    message_refs: string | null;
  }[];
  messages: { call_id: string; team_id: string; hash: string; body: string }[];
  /** Call after the batch's transaction committed (later deltas may then build on it). */
  committed(): void;
}

/** Calls whose last list is kept in memory (least recently written dropped first). */
const MAX_TRACKED_CALLS = 2_000;

/**
 * The writing side, one per outbox: remembers each live call's last stored list, so that an
 * event costs the messages that changed, not the whole history. Only committed lists are
 * remembered, and each delta names its base, so a stale memory costs size, never correctness.
 */
export class EventCompactor {
  private readonly chains = new Map<string, ChainState>();

  compact(events: readonly EventMessage[]): CompactedBatch {
    const working = new Map<string, ChainState>();
    const bodies = new Map<string, { call_id: string; team_id: string; hash: string; body: string }>();
    const ended = new Set<string>();
    const rows = events.map((event) => {
      const list = (event as { messages?: unknown }).messages;
      const callId = event.call.id;
      const row = { id: event.id, team_id: event.call.teamId, call_id: callId, sequence: event.sequence };
      if (event.type === 'end-of-call-report') ended.add(callId);
      if (!Array.isArray(list))
        return { ...row, type: event.type, payload: JSON.stringify(event), message_refs: null };
      const prev = working.get(callId) ?? this.chains.get(callId);
      const refs = list.map((message, i) => {
        if (prev && i < prev.messages.length && sameJson(message, prev.messages[i]))
          return prev.refs[i] as string;
        const body = JSON.stringify(message);
        const hash = messageHash(body);
        bodies.set(`${callId} ${hash}`, { call_id: callId, team_id: event.call.teamId, hash, body });
        return hash;
      });
      let keep = 0;
      if (prev)
        while (keep < refs.length && keep < prev.refs.length && refs[keep] === prev.refs[keep]) keep++;
      const checkpoint =
        !prev || keep === 0 || prev.depth + 1 > Math.max(MIN_CHAIN, Math.ceil(refs.length / 4));
      const stored: MessageRefs = checkpoint
        ? { cp: event.sequence, base: null, keep: 0, add: refs }
        : { cp: prev.cp, base: prev.sequence, keep, add: refs.slice(keep) };
      working.set(callId, {
        sequence: event.sequence,
        cp: stored.cp,
        depth: checkpoint ? 0 : (prev?.depth ?? 0) + 1,
        refs,
        messages: list,
      });
      return {
        ...row,
        type: event.type,
        payload: JSON.stringify({ ...event, messages: null }),
        message_refs: JSON.stringify(stored),
      };
    });
    return {
      rows,
      messages: [...bodies.values()],
      committed: () => {
        for (const [callId, state] of working) {
          const known = this.chains.get(callId);
          if (known && known.sequence > state.sequence) continue;
          this.chains.delete(callId);
          if (!ended.has(callId)) this.chains.set(callId, state);
        }
        for (const callId of ended) this.chains.delete(callId);
        while (this.chains.size > MAX_TRACKED_CALLS) {
          const oldest = this.chains.keys().next().value;
          if (oldest === undefined) break;
          this.chains.delete(oldest);
        }
      },
    };
  }
}

/** Inserts a batch's new message bodies (inside the transaction that stores its events). */
export async function insertMessageBodies(db: Db, batch: CompactedBatch): Promise<void> {
  for (let i = 0; i < batch.messages.length; i += 500) {
    await db
      .insertInto('call_messages')
      .values(batch.messages.slice(i, i + 500))
      .onConflict((oc) => oc.columns(['call_id', 'hash']).doNothing())
      .execute();
  }
}

const parsed = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

/**
 * The events of stored rows as they were sent (full `messages`), in the rows' order. Reads each
 * call's ref chains in one range query and each distinct message body once; events share the
 * message objects, so a page of a long call costs its distinct messages, not events × history.
 */
export async function rehydrate(db: Db, rows: readonly StoredEventRow[]): Promise<EventMessage[]> {
  const { events, unreadable } = await rehydrateSettled(db, rows);
  const [failure] = unreadable.values();
  if (failure) throw failure;
  return events as EventMessage[];
}

/**
 * Like `rehydrate`, but a call whose stored messages cannot be read (a missing row: damaged
 * storage) fails only its own events, named in `unreadable` by row index; the others are read.
 */
export async function rehydrateSettled(
  db: Db,
  rows: readonly StoredEventRow[],
): Promise<{ events: (EventMessage | undefined)[]; unreadable: Map<number, Error> }> {
  const events = rows.map((row) => parsed(row.payload) as EventMessage & { messages?: unknown });
  const unreadable = new Map<number, Error>();
  const wanted = new Map<string, { index: number; sequence: number; refs: MessageRefs }[]>();
  rows.forEach((row, index) => {
    if (row.message_refs === null || row.message_refs === undefined || row.call_id === null) return;
    const refs = parsed(row.message_refs) as MessageRefs;
    const list = wanted.get(row.call_id) ?? [];
    list.push({ index, sequence: (events[index] as EventMessage).sequence, refs });
    wanted.set(row.call_id, list);
  });
  for (const [callId, targets] of wanted) {
    let lists: string[][];
    let bodies: Map<string, unknown>;
    try {
      lists = await resolveRefs(db, callId, targets);
      bodies = await loadBodies(db, callId, new Set(lists.flat()));
    } catch (error) {
      if (!(error instanceof UnreadableEvent)) throw error;
      for (const target of targets) unreadable.set(target.index, error);
      continue;
    }
    targets.forEach((target, i) => {
      try {
        (events[target.index] as { messages?: unknown }).messages = (lists[i] as string[]).map((hash) => {
          const body = bodies.get(hash);
          if (body === undefined)
            throw new UnreadableEvent(`call ${callId}: stored message ${hash} is missing`);
          return body;
        });
      } catch (error) {
        unreadable.set(target.index, error as UnreadableEvent);
      }
    });
  }
  return { events: events.map((e, i) => (unreadable.has(i) ? undefined : e)), unreadable };
}

/** A stored event whose messages cannot be put back (rows missing from the database). */
export class UnreadableEvent extends Error {}

/** Each target's list of refs, from the chain rows between its checkpoint and itself. */
async function resolveRefs(
  db: Db,
  callId: string,
  targets: readonly { sequence: number; refs: MessageRefs }[],
): Promise<string[][]> {
  const chain = new Map<number, MessageRefs>(targets.map((t) => [t.sequence, t.refs]));
  const from = Math.min(...targets.map((t) => t.refs.cp));
  const to = Math.max(...targets.map((t) => t.sequence));
  const needsChain = targets.some((t) => t.refs.base !== null && !chain.has(t.refs.base));
  if (needsChain) {
    const rows = await db
      .selectFrom('call_events')
      .select(['sequence', 'message_refs'])
      .where('call_id', '=', callId)
      .where('sequence', '>=', from)
      .where('sequence', '<=', to)
      .where('message_refs', 'is not', null)
      .execute();
    for (const row of rows)
      if (!chain.has(row.sequence)) chain.set(row.sequence, parsed(row.message_refs) as MessageRefs);
  }
  const memo = new Map<number, string[]>();
  const resolve = (sequence: number): string[] => {
    const pending: MessageRefs[] = [];
    const seqs: number[] = [];
    let at: number | null = sequence;
    while (at !== null && !memo.has(at)) {
      const refs = chain.get(at);
      if (!refs) throw new UnreadableEvent(`call ${callId}: the stored messages of event ${at} are missing`);
      pending.push(refs);
      seqs.push(at);
      at = refs.base;
    }
    let list: string[] = at === null ? [] : (memo.get(at) as string[]);
    for (let i = pending.length - 1; i >= 0; i--) {
      const refs = pending[i] as MessageRefs;
      list = refs.base === null ? refs.add : list.slice(0, refs.keep).concat(refs.add);
      memo.set(seqs[i] as number, list);
    }
    return memo.get(sequence) as string[];
  };
  return targets.map((t) => resolve(t.sequence));
}

async function loadBodies(
  db: Db,
  callId: string,
  hashes: ReadonlySet<string>,
): Promise<Map<string, unknown>> {
  const all = [...hashes];
  const bodies = new Map<string, unknown>();
  for (let i = 0; i < all.length; i += 1_000) {
    const rows = await db
      .selectFrom('call_messages')
      .select(['hash', 'body'])
      .where('call_id', '=', callId)
      .where('hash', 'in', all.slice(i, i + 1_000))
      .execute();
    for (const row of rows) bodies.set(row.hash, JSON.parse(row.body));
  }
  return bodies;
}

/** A page of a call's events after `afterSequence`, in sequence order, as sent. */
export async function loadCallEvents(
  db: Db,
  teamId: string,
  callId: string,
  options: { afterSequence?: number; limit: number },
): Promise<{ event: EventMessage; type: string; sequence: number }[]> {
  const rows = await db
    .selectFrom('call_events')
    .select(['call_id', 'type', 'sequence', 'payload', 'message_refs'])
    .where('team_id', '=', teamId)
    .where('call_id', '=', callId)
    .where('sequence', '>', options.afterSequence ?? 0)
    .orderBy('sequence')
    .limit(options.limit)
    .execute();
  const events = await rehydrate(db, rows);
  return rows.map((row, i) => ({
    event: events[i] as EventMessage,
    type: row.type,
    sequence: row.sequence,
  }));
}

/** The messages of a call's last conversation-update (what recovery finishes the call with). */
export async function lastConversationOf(db: Db, callId: string): Promise<unknown[] | undefined> {
  const row = await db
    .selectFrom('call_events')
    .select(['call_id', 'payload', 'message_refs'])
    .where('call_id', '=', callId)
    .where('type', '=', 'conversation-update')
    .orderBy('sequence', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  const [event] = await rehydrate(db, [row]);
  const messages = (event as { messages?: unknown } | undefined)?.messages;
  return Array.isArray(messages) ? messages : undefined;
}
