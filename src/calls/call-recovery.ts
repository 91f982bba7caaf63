import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { transition } from '../engine/call-lifecycle.js';
import { endOfCall } from '../engine/call-reporter.js';
import type { ResolvedAssistant } from '../engine/call-session.js';
import type { CallEventSink } from '../webhooks/call-event-sink.js';
import type { ConversationMessage } from '../webhooks/events/conversation-schema.js';
import type { Call } from './call-schema.js';

export const defaultCallRecoveryOptions = {
  /** How often the owner of live calls says it is alive. */
  heartbeatMs: 5_000,
  /** A live call whose owner has not beaten for this long is finished by whoever notices. */
  staleAfterMs: 20_000,
} as const;

/**
 * No call is left without its terminal events: every process stamps the live calls it runs
 * (owner + heartbeat); at start and then periodically, each process claims the live calls whose
 * owner stopped beating (a crash, a kill, a lost machine) and finishes them with
 * `callEndTriggerBy: "system"`: one terminal status-update and one end-of-call-report, built
 * from the stored call, its resolved assistant and the last conversation it reported.
 */
export class CallRecovery {
  readonly owner = `proc_${randomUUID()}`;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly options: { heartbeatMs: number; staleAfterMs: number };

  constructor(
    private readonly db: Db,
    private readonly sink: CallEventSink,
    private readonly logger: Logger,
    options: Partial<{ heartbeatMs: number; staleAfterMs: number }> = {},
  ) {
    this.options = { ...defaultCallRecoveryOptions, ...options };
  }

  /** Marks a new call as run by this process, with the assistant it runs with. */
  async own(callId: string, assistant: ResolvedAssistant): Promise<void> {
    await this.db
      .updateTable('calls')
      .set({ owner: this.owner, heartbeat_at: new Date(), assistant_snapshot: JSON.stringify(assistant) })
      .where('id', '=', callId)
      .execute();
  }

  async start(): Promise<void> {
    await this.recover();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.sweepTimer = setInterval(() => void this.recover(), this.options.staleAfterMs / 2);
  }

  stop(): void {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.sweepTimer);
  }

  private async beat(): Promise<void> {
    await sql`update calls set heartbeat_at = now()
      where owner = ${this.owner} and status in ('queued', 'ongoing')`
      .execute(this.db)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'call heartbeat failed'));
  }

  /** Claims and finishes calls whose owner is gone; returns how many. */
  async recover(): Promise<number> {
    let finished = 0;
    try {
      const claimed = await sql<{ id: string; record: Call; assistant_snapshot: ResolvedAssistant | null }>`
        update calls set owner = ${this.owner}, heartbeat_at = now()
        where id in (
          select id from calls
          where status in ('queued', 'ongoing')
            -- A call not yet stamped by its owner (created a moment ago) counts from its last update.
            and coalesce(heartbeat_at, updated_at) < now() - (${this.options.staleAfterMs} * interval '1 millisecond')
          limit 100
          for update skip locked
        )
        returning id, record, assistant_snapshot`.execute(this.db);
      for (const row of claimed.rows) {
        try {
          await this.finish(row.record, row.assistant_snapshot);
          finished++;
        } catch (error) {
          this.logger.error({ err: error, callId: row.id }, 'could not finish an abandoned call');
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'call recovery sweep failed');
    }
    return finished;
  }

  private async finish(call: Call, assistant: ResolvedAssistant | null): Promise<void> {
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
      .where('type', 'in', ['status-update', 'conversation-update'])
      .orderBy('sequence', 'desc')
      .execute();
    const lastConversation = events.find((e) => e.type === 'conversation-update');
    const messages = ((lastConversation?.payload as { messages?: ConversationMessage[] } | undefined)
      ?.messages ?? []) as ConversationMessage[];
    const connected = events.find(
      (e) => e.type === 'status-update' && (e.payload as { call?: Call }).call?.status === 'ongoing',
    );
    const connectedAt = connected ? (connected.payload as { timestamp: number }).timestamp : undefined;
    const now = Date.now();
    const ended =
      call.status === 'ongoing'
        ? transition(
            call,
            { type: 'end', trigger: 'system', reason: 'Server restarted during the call', error: true },
            now,
            connectedAt,
          )
        : transition(
            call,
            {
              type: 'not-connected',
              phoneCallStatus: 'failed',
              reason: 'Server restarted before the call connected',
            },
            now,
          );
    if (!assistant) {
      await this.db
        .updateTable('calls')
        .set({ status: ended.status, record: JSON.stringify(ended) })
        .where('id', '=', call.id)
        .execute();
      return;
    }
    const ctx = { assistant, messages, phoneProvider: '' };
    await this.sink.record({ ...ctx, call: ended }, [{ type: 'status-update' }]);
    // Offline analysis parts work here; model-based ones fail (no providers in recovery) and say so.
    const { call: analysed, report } = await endOfCall({ call: ended, assistant, messages });
    await this.sink.record({ ...ctx, call: analysed }, [{ type: 'end-of-call-report', report }]);
    this.logger.info({ callId: call.id }, 'finished a call abandoned by a stopped server');
  }
}
