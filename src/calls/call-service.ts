/**
 * The live calls of this server: their sessions (started where a call is admitted, moved to the
 * server its media reaches), the wait for their media (a call whose media never comes ends
 * `no-answer`), ending a call from the API, wherever it runs, and the graceful drain of a
 * server that shuts down (`drain`, then `close`). Admission itself is `CallAdmission`
 * (call-admission.ts); `createWebCall` and `join` are its web shorthands.
 */
import { analyzeCall } from '../analysis/analysis.js';
import type { Call } from '../contract/call-schema.js';
import type { Db } from '../db/database.js';
import { isTerminal } from '../engine/call-lifecycle.js';
import {
  type CallSession,
  type CallSessionDeps,
  createCallSession,
  type HangUp,
  type ResolvedAssistant,
} from '../engine/call-session.js';
import { Pacer } from '../engine/pacer.js';
import type { EngineProviders, EngineTiming } from '../engine/providers.js';
import { TtsCache } from '../engine/tts-cache.js';
import type { ProviderSource } from '../providers/provider-catalog.js';
import type { RecordingService } from '../recording/recording-service.js';
import { type Clock, systemClock, type Timer } from '../shared/clock.js';
import { type InputLimits, resolveInputLimits } from '../shared/input-limits.js';
import { getTeamSettings } from '../tenancy/team-settings.js';
import type { AssistantChoice, EntryPointDeps, OutboundCalls } from '../transports/ports.js';
import type { Transport } from '../transports/transport.js';
import { type JoinInfo, joinInfo } from '../transports/web/join-info.js';
import type { CallEventSink } from '../webhooks/call-event-sink.js';
import { CallAdmission, type SessionHost, type SessionStart } from './call-admission.js';
import type { LiveCallRegistry } from './call-recovery.js';
import {
  type CallCarriage,
  type EndRequest,
  findCall,
  findEndRequest,
  insertCall,
  requestCallEnd,
  toCall,
} from './call-store.js';
import { DbMediaTokens, type MediaTokenStore, MemoryMediaTokens } from './media-tokens.js';
import { PhoneStatus } from './phone-status.js';

export type { JoinInfo };

export interface CreateWebCall extends AssistantChoice {
  metadata?: Record<string, unknown>;
  customer?: { number?: string; name?: string };
}

export interface CallServiceOptions {
  db: Db;
  sink: CallEventSink;
  /** The same providers for every call, or a source that gives each team its own (its keys). */
  providers: EngineProviders | ProviderSource;
  /** Base URL clients reach this server at (http[s]://host:port); the join URL uses ws[s]://. */
  publicUrl: string | (() => string);
  clock?: Clock;
  pacer?: Pacer;
  timing?: Partial<EngineTiming>;
  /** How long a join token is valid (ms). Default 60 s. */
  joinTokenTtlMs?: number;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Shared cache of synthesised sentences (default: 32 MB). */
  ttsCache?: TtsCache;
  /**
   * Stores a new call (default: `insertCall` into `db`, within the team's limit of concurrent
   * calls, `maxConcurrentCalls`). Given: no limit applies (tests without a database).
   */
  insertCall?: (call: Call, carriage: CallCarriage) => Promise<unknown>;
  /** Per reply: end of user turn → first audio out, and the provider time in it (benchmark). */
  onReplyLatency?(sample: { totalMs: number; providerMs: number }): void;
  /** After a new call is stored (the server marks it as its own, for crash recovery). */
  onCallCreated?(call: Call, assistant: ResolvedAssistant): Promise<void>;
  /** Records calls whose assistant has `recordingEnabled` (the default); unset: no recordings. */
  recordings?: RecordingService;
  /** Per-call bounds on client input (default: `defaultInputLimits`). */
  inputLimits?: Partial<InputLimits>;
  /** Ownership of call rows (crash recovery): `end`, and joins that reach another server. */
  recovery?: CallOwnership;
  /** Where media tokens are kept (default: the database; a Map when there is none). */
  mediaTokens?: MediaTokenStore;
  /** After an end request was stored for a call another server runs: tell that server at once. */
  announceEndRequest?(callId: string): Promise<void>;
}

/** The call-row ownership CallService relies on (implemented by CallRecovery). */
export interface CallOwnership {
  /** Finishes a live call no live process runs; undefined when a live process holds it. */
  endAbandoned(teamId: string, callId: string, reason: string): Promise<Call | undefined>;
  /** Claims a call still waiting for its client, to run it here: its Call and assistant. */
  adopt?(callId: string): Promise<{ call: Call; assistant: ResolvedAssistant } | undefined>;
  /** Whether another process owns the call's row now (its client joined through that server). */
  ownedElsewhere?(callId: string): Promise<boolean>;
}

/** What `POST /v1/calls/:id/end` did. */
export type EndOutcome =
  | { kind: 'ended'; call: Call }
  | { kind: 'requested'; call: Call; endRequestedAt: string }
  | { kind: 'not_found' };

export type JoinResult =
  | { ok: true; session: CallSession }
  | { ok: false; code: 'bad_token' | 'not_found' | 'conflict'; reason: string };

export class CallService implements LiveCallRegistry, SessionHost {
  private readonly sessions = new Map<string, CallSession>();
  private readonly mediaTimers = new Map<string, Timer>();
  private drainStarted = false;
  readonly admission: CallAdmission;
  readonly clock: Clock;
  readonly pacer: Pacer;
  readonly ttsCache: TtsCache;
  /** Carriers' status callbacks, applied to the calls' lifecycles. */
  readonly phoneStatus: PhoneStatus;
  /** Outbound phone calls (`POST /v1/calls` with `phoneNumberId`), when an entry point offers them. */
  outbound: OutboundCalls | undefined;

  constructor(private readonly o: CallServiceOptions) {
    this.clock = o.clock ?? systemClock;
    this.pacer = o.pacer ?? new Pacer(this.clock, 20, () => performance.now());
    this.ttsCache = o.ttsCache ?? new TtsCache();
    const tokens = o.mediaTokens ?? (o.db ? new DbMediaTokens(o.db) : new MemoryMediaTokens());
    const adopt = o.recovery?.adopt?.bind(o.recovery);
    this.admission = new CallAdmission(this, {
      db: o.db,
      sink: o.sink,
      clock: this.clock,
      tokens,
      mediaTtlMs: o.joinTokenTtlMs ?? 60_000,
      insertCall: (call, carriage) =>
        o.insertCall ? o.insertCall(call, carriage) : insertCall(o.db, call, carriage),
      ...(o.onCallCreated ? { onCallCreated: o.onCallCreated } : {}),
      ...(o.insertCall
        ? {}
        : {
            teamCallLimit: async (teamId: string) => (await getTeamSettings(o.db, teamId)).maxConcurrentCalls,
          }),
      ...(adopt ? { adopt } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    this.phoneStatus = new PhoneStatus(o.db, this, o.log);
  }

  /** What the entry points (transports/entry-points.ts) get: the ports into this server's calls. */
  entryPointDeps(): EntryPointDeps {
    return {
      admission: this.admission,
      phoneStatus: this.phoneStatus,
      publicUrl: () => this.publicUrl(),
      inputLimits: this.inputLimits,
      log: this.o.log ?? { warn: () => {}, error: () => {} },
    };
  }

  /** The per-call input limits (the web socket's rate, hello and ping limits among them). */
  get inputLimits(): InputLimits {
    return resolveInputLimits(this.o.inputLimits);
  }

  get recordings(): RecordingService | undefined {
    return this.o.recordings;
  }

  /** The base URL clients and carriers reach this server at. */
  publicUrl(): string {
    return typeof this.o.publicUrl === 'function' ? this.o.publicUrl() : this.o.publicUrl;
  }

  /** The transport the media is attached through: recorded when the call is. */
  transportFor(callId: string, transport: Transport): Transport {
    return this.o.recordings ? this.o.recordings.wrap(callId, transport) : transport;
  }

  /** Shutting down: no call is admitted here (503) and web clients are sent elsewhere. */
  get draining(): boolean {
    return this.drainStarted;
  }

  /**
   * Graceful drain: from now on this server admits no call; resolves once its live calls have
   * ended, or `timeoutMs` has passed, or `signal` aborts (then `close` ends the rest). A call
   * admitted here whose client joined through another server runs there: it stops waiting here.
   */
  async drain(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.drainStarted = true;
    const deadline = this.clock.now() + timeoutMs;
    while (this.sessions.size > 0 && !signal?.aborted) {
      const left = deadline - this.clock.now();
      if (left <= 0) return;
      await this.releaseAdoptedElsewhere();
      if (this.sessions.size === 0) return;
      // Wakes when a call ends, on abort, and at least every second (a client joining elsewhere).
      let timer: Timer | undefined;
      let onAbort: (() => void) | undefined;
      await Promise.race([
        ...[...this.sessions.values()].map((s) => s.done.catch(() => undefined)),
        new Promise<void>((resolve) => {
          timer = this.clock.setTimeout(resolve, Math.min(left, DRAIN_POLL_MS));
          onAbort = resolve;
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      timer?.cancel();
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Sessions still waiting here for a client that joined through another server: stopped. */
  private async releaseAdoptedElsewhere(): Promise<void> {
    for (const session of [...this.sessions.values()]) {
      if (session.call.status !== 'queued') continue;
      try {
        if (await this.o.recovery?.ownedElsewhere?.(session.id))
          session.abandon('the client joined through another server');
      } catch (error) {
        this.o.log?.warn({ err: error, callId: session.id }, 'could not read the owner of a call');
      }
    }
  }

  get liveCalls(): number {
    return this.sessions.size;
  }

  session(callId: string): CallSession | undefined {
    return this.sessions.get(callId);
  }

  /** A web call (admission through `admission`), with how its client joins. */
  async createWebCall(teamId: string, body: CreateWebCall): Promise<{ call: Call; join: JoinInfo }> {
    const { metadata, customer, ...choice } = body;
    const admission = await this.admission.admit({
      teamId,
      channel: 'web',
      direction: 'inbound',
      customer: customer ?? {},
      assistant: choice,
      ...(metadata ? { metadata } : {}),
    });
    if (admission.kind !== 'admitted') throw new Error('a web call is never refused');
    return {
      call: admission.call,
      join: joinInfo(this.publicUrl(), admission.call.id, admission.mediaToken, admission.mediaExpiresAt),
    };
  }

  /** Redeems a web call's join token (`acceptMedia`): the session the client is attached to. */
  async join(callId: string, token: string | undefined): Promise<JoinResult> {
    const accepted = await this.admission.acceptMedia(callId, token);
    if (!accepted.ok) return accepted;
    const session = this.sessions.get(callId);
    if (!session) return { ok: false, code: 'not_found', reason: 'call not found' };
    return { ok: true, session };
  }

  /**
   * The media window passed: the call ends `no-answer`, unless its media reached another
   * server, which owns and runs it now (then the session here only stops; fencing would refuse
   * its writes anyway).
   */
  private async noMedia(session: CallSession): Promise<void> {
    this.mediaTimers.delete(session.id);
    if (session.call.status !== 'queued') return;
    try {
      if (await this.o.recovery?.ownedElsewhere?.(session.id)) {
        session.abandon('the client joined through another server');
        return;
      }
    } catch (error) {
      this.o.log?.warn({ err: error, callId: session.id }, 'could not read the owner of a call');
    }
    if (session.call.status === 'queued') {
      await session
        .end({ trigger: 'system', reason: 'Nobody joined the call', notConnected: 'no-answer' })
        .catch((error: unknown) =>
          this.o.log?.error({ err: error, callId: session.id }, 'ending an unjoined call failed'),
        );
    }
  }

  mediaArrived(callId: string): void {
    this.mediaTimers.get(callId)?.cancel();
    this.mediaTimers.delete(callId);
  }

  /** Creates the call's session in this process (the server that admits it, or that its media reaches). */
  async startSession(call: Call, assistant: ResolvedAssistant, start: SessionStart): Promise<CallSession> {
    const { id, teamId } = call;
    const providers =
      'forTeam' in this.o.providers ? await this.o.providers.forTeam(teamId) : this.o.providers;
    const recordings = assistant.recordingEnabled !== false ? this.o.recordings : undefined;
    recordings?.start(id, { clock: this.clock, stereo: assistant.recordingStereo === true });
    const deps: CallSessionDeps = {
      ...(recordings ? { finishRecording: (c: Call) => recordings.finish(c) } : {}),
      ...(start.endOnConnect ? { endOnConnect: start.endOnConnect } : {}),
      ...(start.queuedRecorded ? { queuedRecorded: true } : {}),
      // `phone.provider.name` of a phone call that never gets media (then no transport names it).
      phoneProvider: start.phoneProvider,
      call,
      assistant,
      analyze: analyzeCall,
      sink: this.o.sink,
      providers,
      clock: this.clock,
      pacer: this.pacer,
      // Cached audio stays within the team whose keys made it, and with its model.
      ttsCache: this.ttsCache.scoped({ team: teamId, model: assistant.config.speech?.tts?.model }),
      ...(this.o.timing ? { timing: this.o.timing } : {}),
      limits: this.inputLimits,
      ...(this.o.log ? { log: this.o.log } : {}),
      ...(this.o.onReplyLatency ? { onReplyLatency: this.o.onReplyLatency } : {}),
    };
    const session = createCallSession(deps);
    this.sessions.set(id, session);
    if (start.mediaTtlMs !== undefined)
      this.mediaTimers.set(
        id,
        this.clock.setTimeout(() => void this.noMedia(session), start.mediaTtlMs),
      );
    void session.done.finally(() => {
      if (recordings) void recordings.release(session.call);
      this.sessions.delete(id);
      this.mediaArrived(id);
    });
    return session;
  }

  /**
   * Ends a call of this team, whatever server runs it: here, at once; a call no live server
   * runs (its owner stopped beating, or is this process without a session), through recovery;
   * otherwise a durable end request (with how to end it) that its server acts on at once when
   * signalled, else at its next heartbeat.
   */
  async end(
    teamId: string,
    callId: string,
    reason = 'Ended through the API',
    how: Omit<EndRequest, 'reason'> = {},
  ): Promise<EndOutcome> {
    const request: EndRequest = { ...how, reason };
    const session = this.sessions.get(callId);
    if (session && session.call.teamId === teamId) {
      // A call admitted here whose media reached another server runs there: its session here stops.
      if (session.call.status === 'queued' && (await this.o.recovery?.ownedElsewhere?.(callId)))
        session.abandon('the client joined through another server');
      else return { kind: 'ended', call: await session.end(hangUpOf(request)) };
    }
    const row = await findCall(this.o.db, teamId, callId);
    if (!row) return { kind: 'not_found' };
    if (isTerminal(toCall(row))) return { kind: 'ended', call: toCall(row) };
    const finished = await this.o.recovery?.endAbandoned(teamId, callId, reason);
    if (finished) return { kind: 'ended', call: finished };
    const requested = await requestCallEnd(this.o.db, teamId, callId, request);
    if (requested) {
      // The durable mark stays the fallback: the owner's heartbeat acts on it if this is lost.
      await this.o
        .announceEndRequest?.(callId)
        .catch((error: unknown) =>
          this.o.log?.warn({ err: error, callId }, 'could not signal an end request'),
        );
      return { kind: 'requested', ...requested };
    }
    // It ended meanwhile.
    const now = await findCall(this.o.db, teamId, callId);
    return now ? { kind: 'ended', call: toCall(now) } : { kind: 'not_found' };
  }

  // ---- LiveCallRegistry (the heartbeat of CallRecovery) -------------------------------------
  liveCallIds(): string[] {
    return [...this.sessions.keys()];
  }

  ownershipLost(callId: string): void {
    this.sessions.get(callId)?.abandon('the call was taken over by another server');
  }

  endRequested(callId: string): void {
    const session = this.sessions.get(callId);
    if (!session) return;
    void findEndRequest(this.o.db, callId)
      .catch((error: unknown) => {
        this.o.log?.warn({ err: error, callId }, 'could not read an end request');
        return undefined;
      })
      .then((request) => session.end(hangUpOf(request ?? { reason: 'Ended through the API' })))
      .catch((error: unknown) =>
        this.o.log?.error({ err: error, callId }, 'ending a call on request failed'),
      );
  }

  /** Ends every live call (server shutdown) and waits for their terminal events. */
  async close(): Promise<void> {
    this.drainStarted = true;
    await this.releaseAdoptedElsewhere();
    await Promise.all(
      [...this.sessions.values()].map((s) =>
        s
          .end({ trigger: 'system', reason: 'Server shutting down', notConnected: 'canceled' })
          .catch(() => {}),
      ),
    );
    for (const timer of this.mediaTimers.values()) timer.cancel();
    this.mediaTimers.clear();
    this.pacer.stop();
    await this.o.recordings?.idle();
  }
}

/** How often a drain looks again at calls waiting for a client that may join elsewhere (ms). */
const DRAIN_POLL_MS = 1_000;

const hangUpOf = (request: EndRequest): HangUp => ({
  trigger: request.trigger ?? 'system',
  reason: request.reason,
  ...(request.notConnected ? { notConnected: request.notConnected } : {}),
});
