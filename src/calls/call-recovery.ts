import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { analyzeCall } from '../analysis/analysis.js';
import type { Call } from '../contract/call-schema.js';
import type { ConversationMessage } from '../contract/conversation-schema.js';
import type { Db } from '../db/database.js';
import { isTerminal, transition } from '../engine/call-lifecycle.js';
import { CallReporter, endOfCall } from '../engine/call-reporter.js';
import type { ResolvedAssistant } from '../engine/call-session.js';
import type { CallEventSink } from '../webhooks/call-event-sink.js';
import { lastConversationOf } from '../webhooks/events/event-storage.js';
import { phoneProviderOf } from './call-store.js';

export const defaultCallRecoveryOptions = {
  /** How often the owner of live calls says it is alive. */
  heartbeatMs: 5_000,
  /** A live call whose owner has not beaten for this long is finished by whoever notices. */
  staleAfterMs: 20_000,
} as const;

/** The live calls of this process, as the heartbeat sees them (the CallService). */
export interface LiveCallRegistry {
  /** Ids of the calls this process runs now. */
  liveCallIds(): string[];
  /** The call's row is owned by another process now: stop it here without recording more. */
  ownershipLost(callId: string): void;
  /** `POST /v1/calls/:id/end` reached another server: end the call. */
  endRequested(callId: string): void;
}

/**
 * No call is left without its terminal events: every process stamps the live calls it runs
 * (owner + heartbeat); at start and then periodically, each process claims the live calls whose
 * owner stopped beating (a crash, a kill, a lost machine, a stall) and finishes them with
 * `callEndTriggerBy: "system"`: one terminal status-update and one end-of-call-report, built
 * from the stored call, its resolved assistant and the last conversation it reported.
 *
 * Fencing: the heartbeat beats only the calls this process runs (so a call whose session is
 * gone goes stale and is finished), `where owner = me`: a call missing from its result was taken
 * over, and its session stops. Every event write checks the owner in the same statement (the
 * outbox's upsert), so a process that resumes after a stall cannot write to a call another one
 * finished.
 */
/** The part of the recording service recovery uses. */
export interface RecordingSalvage {
  salvageCall(
    call: Pick<Call, 'id'>,
  ): Promise<{ recording: Call['recording']; recordingUrl: string } | undefined>;
}

export class CallRecovery {
  readonly owner: string;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly options: { heartbeatMs: number; staleAfterMs: number };
  private live: LiveCallRegistry | undefined;
  /** Calls this process is finishing now (sweep or API), so it never finishes one twice. */
  private readonly finishing = new Set<string>();
  private readonly reporters = new Set<CallReporter>();
  private sweeping: Promise<number> | undefined;
  private stopped = false;
  private readonly recordings: RecordingSalvage | undefined;

  constructor(
    private readonly db: Db,
    private readonly sink: CallEventSink,
    private readonly logger: Logger,
    options: Partial<{
      heartbeatMs: number;
      staleAfterMs: number;
      owner: string;
      /** Stores what the stopped process recorded of a call, for its report (see `RecordingService`). */
      recordings: RecordingSalvage;
    }> = {},
  ) {
    this.owner = options.owner ?? newCallOwner();
    this.recordings = options.recordings;
    this.options = {
      heartbeatMs: options.heartbeatMs ?? defaultCallRecoveryOptions.heartbeatMs,
      staleAfterMs: options.staleAfterMs ?? defaultCallRecoveryOptions.staleAfterMs,
    };
  }

  /** The calls this process runs (heartbeat, ownership checks, end requests). */
  watch(live: LiveCallRegistry): void {
    this.live = live;
  }

  /** Marks a new call as run by this process, with the assistant it runs with. */
  async own(callId: string, assistant: ResolvedAssistant): Promise<void> {
    await this.db
      .updateTable('calls')
      .set({ owner: this.owner, heartbeat_at: new Date(), assistant_snapshot: JSON.stringify(assistant) })
      .where('id', '=', callId)
      .execute();
  }

  /**
   * Claims a call still waiting for its client (its client joined through this server, and
   * another one created it): the row is owned here from now on, so the creator's writes are
   * fenced off and its heartbeat stops its session. Undefined when the call is not waiting.
   */
  async adopt(callId: string): Promise<{ call: Call; assistant: ResolvedAssistant } | undefined> {
    // Not before its creator stored the `queued` status-update: claiming earlier would fence
    // that write off. It is stored milliseconds after the call is created; wait up to 3 s.
    const deadline = Date.now() + 3_000;
    for (;;) {
      const row = await this.db
        .updateTable('calls')
        .set({ owner: this.owner, heartbeat_at: sql`now()` })
        .where('id', '=', callId)
        .where('status', '=', 'queued')
        .where('assistant_snapshot', 'is not', null)
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('call_events')
              .select('call_events.call_id')
              .whereRef('call_events.call_id', '=', 'calls.id')
              .where('call_events.type', '=', 'status-update'),
          ),
        )
        .returning(['record', 'assistant_snapshot'])
        .executeTakeFirst();
      if (row?.assistant_snapshot) {
        return {
          call: row.record as unknown as Call,
          assistant: row.assistant_snapshot as unknown as ResolvedAssistant,
        };
      }
      const now = await this.db
        .selectFrom('calls')
        .select('status')
        .where('id', '=', callId)
        .executeTakeFirst();
      if (now?.status !== 'queued' || Date.now() >= deadline) return undefined;
      await delay(50);
    }
  }

  /** Whether another process owns the call's row now. */
  async ownedElsewhere(callId: string): Promise<boolean> {
    const row = await this.db.selectFrom('calls').select('owner').where('id', '=', callId).executeTakeFirst();
    return row?.owner != null && row.owner !== this.owner;
  }

  async start(): Promise<void> {
    await this.recover();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.sweepTimer = setInterval(() => void this.recover(), this.options.staleAfterMs / 2);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.sweepTimer);
    for (const reporter of this.reporters) reporter.abandon();
  }

  /** Beats for the calls this process runs; acts on lost ownership and on end requests. */
  async beat(): Promise<void> {
    const ids = this.live?.liveCallIds() ?? [];
    if (ids.length === 0) return;
    let rows: { id: string; status: string; end_requested_at: Date | null }[];
    try {
      rows = await this.db
        .updateTable('calls')
        .set({ heartbeat_at: sql`now()` })
        .where('owner', '=', this.owner)
        .where('id', 'in', ids)
        .returning(['id', 'status', 'end_requested_at'])
        .execute();
    } catch (error) {
      this.logger.warn({ err: error }, 'call heartbeat failed');
      return;
    }
    const beaten = new Map(rows.map((row) => [row.id, row]));
    for (const id of ids) {
      const row = beaten.get(id);
      if (!row) {
        this.logger.warn(
          { callId: id },
          'call taken over by another server (this one stalled); stopping it here',
        );
        this.live?.ownershipLost(id);
      } else if (row.end_requested_at && (row.status === 'queued' || row.status === 'ongoing')) {
        this.live?.endRequested(id);
      }
    }
  }

  /** Claims and finishes calls whose owner is gone; returns how many. */
  recover(): Promise<number> {
    this.sweeping ??= this.sweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweep(): Promise<number> {
    let finished = 0;
    // Never this process's own live calls, even when its heartbeat could not be written.
    const mine = this.live?.liveCallIds() ?? [];
    try {
      const claimed = await sql<{
        id: string;
        record: Call;
        assistant_snapshot: ResolvedAssistant | null;
        channel: string;
      }>`
        update calls set owner = ${this.owner}, heartbeat_at = now()
        where id in (
          select id from calls
          -- Live calls, and ended calls whose report was never stored (their server died between).
          where (status in ('queued', 'ongoing') or (reported_at is null and status not in ('queued', 'ongoing')))
            -- A call not yet stamped by its owner (created a moment ago) counts from its last update.
            and coalesce(heartbeat_at, updated_at) < now() - (${this.options.staleAfterMs} * interval '1 millisecond')
            ${mine.length > 0 ? sql`and id not in (${sql.join(mine)})` : sql``}
          limit 100
          for update skip locked
        )
        returning id, record, assistant_snapshot, channel`.execute(this.db);
      for (const row of claimed.rows) {
        if (this.finishing.has(row.id)) continue;
        this.finishing.add(row.id);
        try {
          await this.finish(row.record, row.assistant_snapshot, RESTARTED, row.channel);
          finished++;
        } catch (error) {
          this.logger.error({ err: error, callId: row.id }, 'could not finish an abandoned call');
        } finally {
          this.finishing.delete(row.id);
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'call recovery sweep failed');
    }
    return finished;
  }

  /**
   * Ends a live call that no live process runs (`POST /v1/calls/:id/end`): claims it if its
   * owner is this process (its session is gone) or has stopped beating, and finishes it.
   * Returns the finished call, or undefined when a live process holds it.
   */
  async endAbandoned(teamId: string, callId: string, reason: string): Promise<Call | undefined> {
    if (this.finishing.has(callId)) return undefined;
    this.finishing.add(callId);
    try {
      const claimed = await sql<{
        record: Call;
        assistant_snapshot: ResolvedAssistant | null;
        channel: string;
      }>`
        update calls set owner = ${this.owner}, heartbeat_at = now()
        where id = ${callId} and team_id = ${teamId} and status in ('queued', 'ongoing')
          and (owner = ${this.owner}
            or coalesce(heartbeat_at, updated_at) < now() - (${this.options.staleAfterMs} * interval '1 millisecond'))
        returning record, assistant_snapshot, channel`.execute(this.db);
      const row = claimed.rows[0];
      if (!row) return undefined;
      return await this.finish(
        row.record,
        row.assistant_snapshot,
        { reason, notConnected: reason },
        row.channel,
      );
    } finally {
      this.finishing.delete(callId);
    }
  }

  private async finish(
    call: Call,
    assistant: ResolvedAssistant | null,
    why: { reason: string; notConnected: string },
    channel: string,
  ): Promise<Call> {
    if (!assistant) {
      this.logger.warn(
        { callId: call.id },
        'abandoned call has no assistant snapshot; finishing without events',
      );
    }
    const events = await this.db
      .selectFrom('call_events')
      .select(['type', 'payload', 'created_at'])
      .where('call_id', '=', call.id)
      .where('type', 'in', ['status-update'])
      .orderBy('sequence', 'desc')
      .execute();
    const messages = ((await lastConversationOf(this.db, call.id)) ?? []) as ConversationMessage[];
    const connected = events.find(
      (e) => e.type === 'status-update' && (e.payload as { call?: Call }).call?.status === 'ongoing',
    );
    const connectedAt = connected ? (connected.payload as { timestamp: number }).timestamp : undefined;
    const now = Date.now();
    // Ended already (only its report is missing): the terminal status-update is not repeated.
    const alreadyEnded = isTerminal(call);
    const ended = alreadyEnded
      ? call
      : call.status === 'ongoing'
        ? transition(
            call,
            { type: 'end', trigger: 'system', reason: why.reason, error: true },
            now,
            connectedAt,
          )
        : transition(
            call,
            {
              type: 'not-connected',
              phoneCallStatus: 'failed',
              reason: why.notConnected,
            },
            now,
          );
    if (!assistant) {
      await this.db
        .updateTable('calls')
        .set({ status: ended.status, record: JSON.stringify(ended), reported_at: new Date() })
        .where('id', '=', call.id)
        .where('owner', '=', this.owner)
        .execute();
      return ended;
    }
    const ctx = { assistant, messages, phoneProvider: phoneProviderOf(channel) };
    let state: Call = ended;
    // Retried until durable, like a live call's events; stops if another process took it over.
    const reporter = new CallReporter(
      this.sink,
      () => ({ ...ctx, call: state }),
      (error) =>
        this.logger.error({ err: error, callId: call.id }, 'recording a recovered call event failed'),
      {
        onRetry: (error, attempt, delayMs) => {
          if ((attempt & (attempt - 1)) === 0)
            this.logger.error(
              { err: error, callId: call.id, attempt, retryInMs: delayMs },
              'recording a recovered call event failed; retrying until it is stored',
            );
        },
        onOwnershipLost: () =>
          this.logger.warn({ callId: call.id }, 'another server took over the call being recovered'),
      },
    );
    this.reporters.add(reporter);
    try {
      if (!alreadyEnded) await reporter.record({ type: 'status-update' });
      if (reporter.ownershipLost || this.stopped) return state;
      // What the stopped process recorded (when its partial file is on this server's disk).
      const recorded = connectedAt !== undefined ? await this.recordings?.salvageCall(ended) : undefined;
      // Offline analysis parts work here; model-based ones fail (no providers in recovery) and say so.
      const { call: analysed, report } = await endOfCall({
        call: recorded ? { ...ended, recording: recorded.recording } : ended,
        assistant,
        messages,
        analyze: analyzeCall,
        ...(recorded ? { recordingUrl: recorded.recordingUrl } : {}),
      });
      state = analysed;
      await reporter.record({ type: 'end-of-call-report', report });
    } finally {
      this.reporters.delete(reporter);
    }
    if (!reporter.ownershipLost && reporter.failures.length === 0)
      this.logger.info({ callId: call.id, reason: why.reason }, 'finished a call no live server was running');
    return state;
  }
}

const RESTARTED = {
  reason: 'Server restarted during the call',
  notConnected: 'Server restarted before the call connected',
};

export const newCallOwner = () => `proc_${randomUUID()}`;
