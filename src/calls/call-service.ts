import { randomBytes } from 'node:crypto';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { mergeDeep, withDefaults } from '../assistants/assistant-defaults.js';
import {
  type AssistantCreate,
  AssistantPatchSchema,
  type AssistantSpec,
} from '../assistants/assistant-schema.js';
import { findAssistant, specOf } from '../assistants/assistant-store.js';
import type { Db } from '../db/database.js';
import { newWebCall } from '../engine/call-lifecycle.js';
import { type CallSession, createCallSession, type ResolvedAssistant } from '../engine/call-session.js';
import { type Clock, systemClock, type Timer } from '../engine/clock.js';
import { Pacer } from '../engine/pacer.js';
import type { EngineProviders, EngineTiming } from '../engine/providers.js';
import { TtsCache } from '../engine/tts-cache.js';
import { ApiError } from '../http/api-error.js';
import { validateDialogFor } from '../llm/scripted/dialog.js';
import { newWebCallId } from '../shared/ids.js';
import type { CallEventSink } from '../webhooks/call-event-sink.js';
import type { Call } from './call-schema.js';
import { insertCall } from './call-store.js';

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
  providers: EngineProviders;
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
}

export type JoinResult =
  | { ok: true; session: CallSession }
  | { ok: false; code: 'bad_token' | 'not_found' | 'conflict'; reason: string };

export class CallService {
  private readonly sessions = new Map<string, CallSession>();
  private readonly tokens = new Map<string, { callId: string; expiresAt: number }>();
  private readonly joinTimers = new Map<string, Timer>();
  readonly clock: Clock;
  readonly pacer: Pacer;
  readonly ttsCache: TtsCache;

  constructor(private readonly o: CallServiceOptions) {
    this.clock = o.clock ?? systemClock;
    this.pacer = o.pacer ?? new Pacer(this.clock, 20, () => performance.now());
    this.ttsCache = o.ttsCache ?? new TtsCache();
  }

  get liveCalls(): number {
    return this.sessions.size;
  }

  session(callId: string): CallSession | undefined {
    return this.sessions.get(callId);
  }

  async createWebCall(teamId: string, body: CreateWebCall): Promise<{ call: Call; join: JoinInfo }> {
    const assistant = await this.resolveAssistant(teamId, body);
    const id = newWebCallId();
    const call = newWebCall({
      id,
      teamId,
      assistantId: assistant._id,
      userNumber: body.customer?.number ?? `web-${body.customer?.name ?? id}`,
      now: this.clock.now(),
      assistantOverrides: body.assistantOverrides ?? {},
      metadata: body.metadata ?? {},
    });
    await (this.o.insertCall ? this.o.insertCall(call) : insertCall(this.o.db, call));
    const session = createCallSession({
      call,
      assistant,
      sink: this.o.sink,
      providers: this.o.providers,
      clock: this.clock,
      pacer: this.pacer,
      ttsCache: this.ttsCache,
      ...(this.o.timing ? { timing: this.o.timing } : {}),
      ...(this.o.log ? { log: this.o.log } : {}),
      ...(this.o.onReplyLatency ? { onReplyLatency: this.o.onReplyLatency } : {}),
    });
    this.sessions.set(id, session);
    void session.done.finally(() => {
      this.sessions.delete(id);
      this.joinTimers.get(id)?.cancel();
      this.joinTimers.delete(id);
    });
    const ttl = this.o.joinTokenTtlMs ?? 60_000;
    const token = randomBytes(24).toString('base64url');
    const expiresAt = this.clock.now() + ttl;
    this.tokens.set(token, { callId: id, expiresAt });
    this.joinTimers.set(
      id,
      this.clock.setTimeout(() => {
        this.tokens.delete(token);
        if (session.call.status === 'queued') {
          void session.end({
            trigger: 'system',
            reason: 'Nobody joined the call',
            notConnected: 'no-answer',
          });
        }
      }, ttl),
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

  /** Redeems a join token (single use). */
  join(callId: string, token: string | undefined): JoinResult {
    const entry = token ? this.tokens.get(token) : undefined;
    if (!token || !entry || entry.callId !== callId || entry.expiresAt < this.clock.now()) {
      return { ok: false, code: 'bad_token', reason: 'missing, unknown or expired join token' };
    }
    this.tokens.delete(token);
    const session = this.sessions.get(callId);
    if (!session) return { ok: false, code: 'not_found', reason: 'call not found' };
    if (session.call.status !== 'queued')
      return { ok: false, code: 'conflict', reason: 'the call is not waiting for a client' };
    this.joinTimers.get(callId)?.cancel();
    this.joinTimers.delete(callId);
    return { ok: true, session };
  }

  /** Ends a live call of this team; undefined when it is not live here. */
  async end(teamId: string, callId: string, reason = 'Ended through the API'): Promise<Call | undefined> {
    const session = this.sessions.get(callId);
    if (!session || session.call.teamId !== teamId) return undefined;
    return session.end({ trigger: 'system', reason });
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
  }

  private async resolveAssistant(teamId: string, body: CreateWebCall): Promise<ResolvedAssistant> {
    let resolved: ResolvedAssistant;
    if (body.assistantId) {
      const row = await findAssistant(this.o.db, teamId, body.assistantId);
      if (!row) throw new ApiError(404, 'not_found', 'assistant not found', 'assistantId');
      resolved = {
        _id: row.id,
        ...specOf(row),
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      };
    } else if (body.assistant) {
      resolved = { _id: '', ...withDefaults(body.assistant) };
    } else {
      throw new ApiError(
        400,
        'invalid_request',
        'assistantId or assistant is required (assistant-request is not supported yet)',
        'assistantId',
      );
    }
    const overrides = pickAssistantFields(body.assistantOverrides ?? {});
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
