import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { mergeDeep, redactSecrets, withDefaults } from '../assistants/assistant-defaults.js';
import { findAssistant, specOf } from '../assistants/assistant-store.js';
import {
  type AssistantCreate,
  type AssistantPatch,
  AssistantPatchSchema,
  type AssistantSpec,
} from '../contract/assistant-schema.js';
import type { Call } from '../contract/call-schema.js';
import type { Db } from '../db/database.js';
import { isTerminal, newWebCall } from '../engine/call-lifecycle.js';
import {
  type CallSession,
  createCallSession,
  type HangUp,
  type ResolvedAssistant,
} from '../engine/call-session.js';
import { Pacer } from '../engine/pacer.js';
import type { EngineProviders, EngineTiming } from '../engine/providers.js';
import { TtsCache } from '../engine/tts-cache.js';
import { validateDialogFor } from '../llm/scripted/dialog.js';
import type { ProviderSource } from '../providers/provider-catalog.js';
import type { RecordingResult, RecordingService } from '../recording/recording-service.js';
import { ApiError } from '../shared/api-error.js';
import { type Clock, systemClock, type Timer } from '../shared/clock.js';
import { newWebCallId } from '../shared/ids.js';
import { type InputLimits, resolveInputLimits } from '../shared/input-limits.js';
import { getTeamSettings } from '../tenancy/team-settings.js';
import type { Transport } from '../transports/transport.js';
import type { CallEventSink } from '../webhooks/call-event-sink.js';
import type { LiveCallRegistry } from './call-recovery.js';
import { findCall, insertCall, requestCallEnd, toCall } from './call-store.js';
import { DbJoinTokens, type JoinTokenStore, MemoryJoinTokens } from './join-tokens.js';

/**
 * Web calls: creation (the Call is stored and its `queued` event recorded), a short-lived
 * single-use token to join over the WebSocket, the live sessions of this process, and ending a
 * call from the API. A call nobody joins before its token expires ends as `no-answer`.
 */
export interface CreateWebCall {
  assistantId?: string;
  assistant?: AssistantCreate;
  assistantOverrides?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  customer?: { number?: string; name?: string };
}

export interface JoinInfo {
  url: string;
  token: string;
  expiresAt: string;
  protocol: string;
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
  /** Stores a new call (default: `insertCall` into `db`). */
  insertCall?: (call: Call) => Promise<unknown>;
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
  /** Where join tokens are kept (default: the database; a Map when there is none). */
  joinTokens?: JoinTokenStore;
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

export class CallService implements LiveCallRegistry {
  private readonly sessions = new Map<string, CallSession>();
  private readonly tokens: JoinTokenStore;
  private readonly joinTimers = new Map<string, Timer>();
  readonly clock: Clock;
  readonly pacer: Pacer;
  readonly ttsCache: TtsCache;

  constructor(private readonly o: CallServiceOptions) {
    this.clock = o.clock ?? systemClock;
    this.pacer = o.pacer ?? new Pacer(this.clock, 20, () => performance.now());
    this.ttsCache = o.ttsCache ?? new TtsCache();
    this.tokens = o.joinTokens ?? (o.db ? new DbJoinTokens(o.db) : new MemoryJoinTokens());
  }

  /** The per-call input limits (the web socket's rate, hello and ping limits among them). */
  get inputLimits(): InputLimits {
    return resolveInputLimits(this.o.inputLimits);
  }

  get recordings(): RecordingService | undefined {
    return this.o.recordings;
  }

  /** The transport a joining client is attached through: recorded when the call is. */
  transportFor(callId: string, transport: Transport): Transport {
    return this.o.recordings ? this.o.recordings.wrap(callId, transport) : transport;
  }

  get liveCalls(): number {
    return this.sessions.size;
  }

  session(callId: string): CallSession | undefined {
    return this.sessions.get(callId);
  }

  async createWebCall(teamId: string, body: CreateWebCall): Promise<{ call: Call; join: JoinInfo }> {
    const id = newWebCallId();
    const providers =
      'forTeam' in this.o.providers ? await this.o.providers.forTeam(teamId) : this.o.providers;
    const call = newWebCall({
      id,
      teamId,
      assistantId: '',
      userNumber: body.customer?.number ?? `web-${body.customer?.name ?? id}`,
      now: this.clock.now(),
      // The call (API, events, webhooks) shows the overrides as stored assistants are shown:
      // secrets dropped, header values redacted. The resolved assistant keeps them, for routing.
      assistantOverrides: redactSecrets(body.assistantOverrides ?? {}),
      metadata: body.metadata ?? {},
    });
    let assistant: ResolvedAssistant;
    let endOnConnect: HangUp | undefined;
    if (body.assistantId || body.assistant) {
      assistant = await this.resolveAssistant(teamId, body);
      call.assistantId = assistant._id;
      await (this.o.insertCall ? this.o.insertCall(call) : insertCall(this.o.db, call));
    } else {
      // The call row is written with the assistant-request event, its first.
      ({ assistant, endOnConnect } = await this.askTeamServer(teamId, call, body));
      call.assistantId = assistant._id;
    }
    await this.o.onCallCreated?.(call, assistant);
    const ttl = this.o.joinTokenTtlMs ?? 60_000;
    const expiresAt = this.clock.now() + ttl;
    const token = await this.tokens.issue({
      callId: id,
      teamId,
      expiresAt,
      ...(endOnConnect ? { hangUp: endOnConnect } : {}),
    });
    const session = await this.startSession(call, assistant, providers, endOnConnect);
    this.joinTimers.set(
      id,
      this.clock.setTimeout(() => void this.nobodyJoined(session), ttl),
    );
    const publicUrl = typeof this.o.publicUrl === 'function' ? this.o.publicUrl() : this.o.publicUrl;
    const base = publicUrl.replace(/\/+$/, '').replace(/^http/, 'ws');
    return {
      call: session.call,
      join: {
        url: `${base}/v1/calls/${id}/ws?token=${token}`,
        token,
        expiresAt: new Date(expiresAt).toISOString(),
        protocol: 'parley-web-call.v1',
      },
    };
  }

  /**
   * The join window passed: the call ends `no-answer`, unless its client joined through another
   * server, which owns and runs it now (then the session here only stops; fencing would refuse
   * its writes anyway).
   */
  private async nobodyJoined(session: CallSession): Promise<void> {
    this.joinTimers.delete(session.id);
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

  /** Creates the call's session in this process (the server that creates it, or that its client joins). */
  private async startSession(
    call: Call,
    assistant: ResolvedAssistant,
    providers: EngineProviders,
    endOnConnect: HangUp | undefined,
    queuedRecorded = false,
  ): Promise<CallSession> {
    const { id, teamId } = call;
    const recordings = assistant.recordingEnabled !== false ? this.o.recordings : undefined;
    recordings?.start(id, { clock: this.clock, stereo: assistant.recordingStereo === true });
    // `finishRecording(call)` is for the end-of-call report (call.recording, recordingUrl).
    const deps: Parameters<typeof createCallSession>[0] & {
      finishRecording?: (call: Call) => Promise<RecordingResult | undefined>;
    } = {
      ...(recordings ? { finishRecording: (c: Call) => recordings.finish(c) } : {}),
      ...(endOnConnect ? { endOnConnect } : {}),
      ...(queuedRecorded ? { queuedRecorded } : {}),
      call,
      assistant,
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
    void session.done.finally(() => {
      if (recordings) void recordings.release(session.call);
      this.sessions.delete(id);
      this.joinTimers.get(id)?.cancel();
      this.joinTimers.delete(id);
    });
    return session;
  }

  /**
   * Redeems a join token (single use, on any server sharing the database). A call created by
   * another server is claimed here (its row's owner) and runs here from now on.
   */
  async join(callId: string, token: string | undefined): Promise<JoinResult> {
    const entry = token ? await this.tokens.redeem(callId, token, this.clock.now()) : undefined;
    if (!entry) {
      return { ok: false, code: 'bad_token', reason: 'missing, unknown or expired join token' };
    }
    const session = this.sessions.get(callId) ?? (await this.adopt(entry.teamId, callId, entry.hangUp));
    if (!session) return { ok: false, code: 'not_found', reason: 'call not found' };
    if (session.call.status !== 'queued')
      return { ok: false, code: 'conflict', reason: 'the call is not waiting for a client' };
    this.joinTimers.get(callId)?.cancel();
    this.joinTimers.delete(callId);
    return { ok: true, session };
  }

  /** A call created by another server whose client joined here: claimed, and run here. */
  private async adopt(
    teamId: string,
    callId: string,
    hangUp: HangUp | undefined,
  ): Promise<CallSession | undefined> {
    const adopted = await this.o.recovery?.adopt?.(callId);
    if (!adopted || adopted.call.teamId !== teamId) return undefined;
    const providers =
      'forTeam' in this.o.providers ? await this.o.providers.forTeam(teamId) : this.o.providers;
    // Adopted while this server waited for the claim (two joins cannot: the token is single use).
    return (
      this.sessions.get(callId) ??
      (await this.startSession(adopted.call, adopted.assistant, providers, hangUp, true))
    );
  }

  /**
   * Ends a call of this team, whatever server runs it: here, at once; a call no live server
   * runs (its owner stopped beating, or is this process without a session), through recovery;
   * otherwise a durable end request that its server acts on at its next heartbeat.
   */
  async end(teamId: string, callId: string, reason = 'Ended through the API'): Promise<EndOutcome> {
    const session = this.sessions.get(callId);
    if (session && session.call.teamId === teamId) {
      // A call created here but joined through another server runs there: its session here stops.
      if (session.call.status === 'queued' && (await this.o.recovery?.ownedElsewhere?.(callId)))
        session.abandon('the client joined through another server');
      else return { kind: 'ended', call: await session.end({ trigger: 'system', reason }) };
    }
    const row = await findCall(this.o.db, teamId, callId);
    if (!row) return { kind: 'not_found' };
    if (isTerminal(toCall(row))) return { kind: 'ended', call: toCall(row) };
    const finished = await this.o.recovery?.endAbandoned(teamId, callId, reason);
    if (finished) return { kind: 'ended', call: finished };
    const requested = await requestCallEnd(this.o.db, teamId, callId);
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
    void this.sessions
      .get(callId)
      ?.end({ trigger: 'system', reason: 'Ended through the API' })
      .catch((error: unknown) =>
        this.o.log?.error({ err: error, callId }, 'ending a call on request failed'),
      );
  }

  /** Ends every live call (server shutdown) and waits for their terminal events. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.sessions.values()].map((s) =>
        s
          .end({ trigger: 'system', reason: 'Server shutting down', notConnected: 'canceled' })
          .catch(() => {}),
      ),
    );
    for (const timer of this.joinTimers.values()) timer.cancel();
    this.joinTimers.clear();
    this.pacer.stop();
    await this.o.recordings?.idle();
  }

  private async loadAssistant(teamId: string, id: string): Promise<ResolvedAssistant | undefined> {
    const row = await findAssistant(this.o.db, teamId, id);
    if (!row) return undefined;
    return {
      _id: row.id,
      ...specOf(row),
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  }

  private async resolveAssistant(teamId: string, body: CreateWebCall): Promise<ResolvedAssistant> {
    let resolved: ResolvedAssistant;
    if (body.assistantId) {
      const found = await this.loadAssistant(teamId, body.assistantId);
      if (!found) throw new ApiError(404, 'not_found', 'assistant not found', 'assistantId');
      resolved = found;
    } else {
      resolved = { _id: '', ...withDefaults(body.assistant ?? { name: 'Assistant' }) };
    }
    return this.applyOverrides(resolved, body.assistantOverrides ?? {});
  }

  /**
   * CONTRACT.md "assistant-request": a call created without an assistant asks the team's
   * server, within 5 s. `{}` takes the team's default assistant (or the platform's defaults),
   * `{"assistant"}` an inline one, `{"assistantId", "assistantOverrides"}` a stored one;
   * `{"error"}` is spoken to the caller and the call ends; no usable answer in time falls back to
   * the team's default assistant, or the call ends with a spoken apology. `metadata` in the
   * reply joins `call.metadata`, so every later event carries it.
   */
  private async askTeamServer(
    teamId: string,
    call: Call,
    body: CreateWebCall,
  ): Promise<{ assistant: ResolvedAssistant; endOnConnect?: HangUp }> {
    const settings = await getTeamSettings(this.o.db, teamId);
    if (!settings.server) {
      throw new ApiError(
        400,
        'invalid_request',
        "assistantId or assistant is required, unless the team's server answers assistant-request (PATCH /v1/team)",
        'assistantId',
      );
    }
    const { server } = settings;
    const placeholder: ResolvedAssistant = { _id: '', ...withDefaults({ name: 'assistant-request' }) };
    const reply = await this.o.sink.requestAssistant(
      { call, assistant: placeholder, messages: [], phoneProvider: '' },
      {
        url: server.url,
        headers: server.headers ?? {},
        ...(server.secret ? { secret: server.secret } : {}),
        timeoutMs: Math.round((server.timeoutSeconds ?? 5) * 1000),
        format: server.format ?? 'interactly',
      },
      AbortSignal.timeout(6_000),
    );
    if (reply.kind !== 'unusable' && reply.metadata) call.metadata = { ...call.metadata, ...reply.metadata };
    const fallback = async (why: string, say: string) => {
      const byDefault = settings.defaultAssistantId
        ? await this.loadAssistant(teamId, settings.defaultAssistantId)
        : undefined;
      if (byDefault)
        return { assistant: await this.applyOverrides(byDefault, body.assistantOverrides ?? {}) };
      this.o.log?.warn({ callId: call.id, why }, 'assistant-request gave no assistant; ending the call');
      return {
        assistant: placeholder,
        endOnConnect: { trigger: 'system' as const, reason: `assistant-request: ${why}`, say, error: true },
      };
    };
    const apology = 'Sorry, this call cannot be taken right now. Please try again later. Goodbye.';
    switch (reply.kind) {
      case 'defaults': {
        const byDefault = settings.defaultAssistantId
          ? await this.loadAssistant(teamId, settings.defaultAssistantId)
          : undefined;
        return {
          assistant: await this.applyOverrides(byDefault ?? placeholder, body.assistantOverrides ?? {}),
        };
      }
      case 'assistant': {
        if (!checkPatch(reply.assistant)) {
          return fallback(`the returned assistant is invalid: ${ajv.errorsText(checkPatch.errors)}`, apology);
        }
        const inline = {
          _id: '',
          ...withDefaults({ name: 'Assistant', ...(reply.assistant as AssistantPatch) }),
        };
        return { assistant: await this.applyOverrides(inline, body.assistantOverrides ?? {}) };
      }
      case 'assistantId': {
        const found = await this.loadAssistant(teamId, reply.assistantId);
        if (!found) return fallback(`assistant ${reply.assistantId} not found`, apology);
        const overrides = { ...(reply.assistantOverrides ?? {}), ...(body.assistantOverrides ?? {}) };
        try {
          return { assistant: await this.applyOverrides(found, overrides) };
        } catch (e) {
          return fallback(`invalid assistantOverrides: ${(e as Error).message}`, apology);
        }
      }
      case 'error':
        return {
          assistant: placeholder,
          endOnConnect: {
            trigger: 'system',
            reason: `assistant-request: ${reply.error}`,
            say: reply.error,
            error: true,
          },
        };
      case 'unusable':
        return fallback(reply.reason, apology);
    }
  }

  private async applyOverrides(
    base: ResolvedAssistant,
    rawOverrides: Record<string, unknown>,
  ): Promise<ResolvedAssistant> {
    let resolved = base;
    const overrides = pickAssistantFields(rawOverrides);
    if (Object.keys(overrides).length > 0) {
      if (!checkPatch(overrides)) {
        const first = checkPatch.errors?.[0];
        const path = `assistantOverrides${(first?.instancePath ?? '').replace(/\//g, '.')}`;
        throw new ApiError(400, 'invalid_request', `${path} ${first?.message ?? 'is invalid'}`, path);
      }
      resolved = mergeDeep(resolved, overrides);
    }
    const dialogError = validateDialogFor(resolved as AssistantSpec);
    if (dialogError)
      throw new ApiError(400, 'invalid_request', `dialog: ${dialogError.message}`, dialogError.field);
    return resolved;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: ajv's CJS default export under NodeNext
const AjvClass = ((Ajv as any).default ?? Ajv) as typeof Ajv.default;
const ajv = new AjvClass({ strict: false });
// biome-ignore lint/suspicious/noExplicitAny: same
((addFormats as any).default ?? addFormats)(ajv);
const checkPatch = ajv.compile(AssistantPatchSchema);

const ASSISTANT_FIELD_NAMES = new Set(Object.keys(AssistantPatchSchema.properties));

/** The assistant fields among the overrides (others, e.g. variableValues, stay only on the call). */
function pickAssistantFields(overrides: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(overrides).filter(([key]) => ASSISTANT_FIELD_NAMES.has(key)));
}
