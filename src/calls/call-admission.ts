/**
 * Call admission, whatever carries the call (`CallAdmissionPort`): the web API, a carrier's
 * inbound webhook, an outbound phone call. One place decides the call's id and fields, its
 * assistant (stored, inline, overridden, the phone number's, or asked through
 * `assistant-request`), writes the call row with what carries it (channel, carrier call id,
 * phone number) and a one-time media token to the database, and starts the call's session.
 * Any server sharing the database accepts the media (`acceptMedia`); the server that accepts it
 * runs the call from then on. A team over its limit of concurrent calls gets no new call (429;
 * an inbound phone call hears a busy message), and a draining server admits none (503).
 */
import { redactSecrets } from '../assistants/assistant-defaults.js';
import {
  APOLOGY,
  type AssistantChoice,
  AssistantResolver,
  placeholderAssistant,
  type Resolution,
} from '../assistants/assistant-resolution.js';
import type { Call } from '../contract/call-schema.js';
import type { Db } from '../db/database.js';
import { newWebCall } from '../engine/call-lifecycle.js';
import type { CallSession, HangUp, ResolvedAssistant } from '../engine/call-session.js';
import { ApiError } from '../shared/api-error.js';
import type { Clock } from '../shared/clock.js';
import { newPhoneCallId, newWebCallId } from '../shared/ids.js';
import { getTeamSettings } from '../tenancy/team-settings.js';
import type {
  Admission,
  AdmitRequest,
  CallAdmissionPort,
  Channel,
  MediaAcceptance,
} from '../transports/ports.js';
import type { Transport } from '../transports/transport.js';
import type { CallEventSink } from '../webhooks/call-event-sink.js';
import {
  type CallCarriage,
  findCallByCarrierId,
  phoneProviderOf,
  setCarrierCallId,
  toCall,
} from './call-store.js';
import type { MediaTokenStore } from './media-tokens.js';
import { BUSY_MESSAGE, CallLimitReached, insertWithinLimit } from './team-call-limit.js';

/** How a session starts on this server (see `CallService.startSession`). */
export interface SessionStart {
  /** Say this as soon as the media connects, then hang up. */
  endOnConnect?: HangUp;
  /** The `queued` status-update was recorded by another server. */
  queuedRecorded?: boolean;
  /** `phone.provider.name` of the call's events ("" for web calls). */
  phoneProvider: string;
  /** The call ends `no-answer` when its media has not come after this long (ms). */
  mediaTtlMs?: number;
}

/** What admission needs from the live sessions of this server (`CallService`). */
export interface SessionHost {
  session(callId: string): CallSession | undefined;
  startSession(call: Call, assistant: ResolvedAssistant, start: SessionStart): Promise<CallSession>;
  /** The media came: the call no longer ends for want of it. */
  mediaArrived(callId: string): void;
  /** The transport the media is attached through (recorded when the call is). */
  transportFor(callId: string, transport: Transport): Transport;
  end(teamId: string, callId: string, reason: string): Promise<unknown>;
  /** This server is shutting down: it admits no call and accepts no web client (see `drain`). */
  readonly draining?: boolean;
}

/** How long a client refused by a draining server should wait before it retries (s). */
export const DRAIN_RETRY_AFTER_S = 1;

export interface CallAdmissionOptions {
  db: Db;
  sink: CallEventSink;
  clock: Clock;
  tokens: MediaTokenStore;
  /** How long a media token is valid for web and inbound calls (ms). */
  mediaTtlMs: number;
  /** Stores a new call (default: `insertCall` into `db`). */
  insertCall(call: Call, carriage: CallCarriage): Promise<unknown>;
  /**
   * The team's limit of concurrent calls (undefined: none); when set, a new call is stored in
   * `db` only within it (`insertWithinLimit`). Unset: no limits.
   */
  teamCallLimit?(teamId: string): Promise<number | undefined>;
  /** After a new call is stored (the server marks it as its own, for crash recovery). */
  onCallCreated?(call: Call, assistant: ResolvedAssistant): Promise<void>;
  /** Claims a call waiting for its media that another server admitted: its Call and assistant. */
  adopt?(callId: string): Promise<{ call: Call; assistant: ResolvedAssistant } | undefined>;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** Outbound phone calls ring, then the carrier may run answering-machine detection. */
const OUTBOUND_MEDIA_TTL_MS = 180_000;
/** `assistant-request` has 5 s; this bounds the whole request, whatever the server's timeout says. */
const ASSISTANT_REQUEST_BUDGET_MS = 6_000;

export class CallAdmission implements CallAdmissionPort {
  readonly resolver: AssistantResolver;

  constructor(
    private readonly host: SessionHost,
    private readonly o: CallAdmissionOptions,
  ) {
    this.resolver = new AssistantResolver(o.db);
  }

  async admit(request: AdmitRequest, signal?: AbortSignal): Promise<Admission> {
    if (this.host.draining)
      throw new ApiError(
        503,
        'draining',
        'this server is shutting down and admits no new calls: retry, and another server will take the call',
        undefined,
        DRAIN_RETRY_AFTER_S,
      );
    const call = this.newCall(request);
    const carriage: CallCarriage = {
      channel: request.channel,
      ...(request.carrierCallId ? { carrierCallId: request.carrierCallId } : {}),
      ...(request.phoneNumber ? { phoneNumberId: request.phoneNumber.id } : {}),
    };
    const phoneProvider = phoneProviderOf(request.channel);
    const limit = await this.o.teamCallLimit?.(request.teamId);
    let resolution: Resolution;
    const choice = await this.choiceOf(request);
    if (choice) {
      // Resolved first: an unknown assistant or invalid overrides leave no call behind.
      resolution = { kind: 'assistant', assistant: await this.resolver.resolve(request.teamId, choice) };
      call.assistantId = resolution.assistant._id;
      const busy = await this.store(call, carriage, limit, request);
      if (busy) return busy;
    } else {
      const settings = await getTeamSettings(this.o.db, request.teamId);
      const server = request.server ?? settings.server;
      if (!server && request.channel === 'web') {
        throw new ApiError(
          400,
          'invalid_request',
          "assistantId or assistant is required, unless the team's server answers assistant-request (PATCH /v1/team)",
          'assistantId',
        );
      }
      const busy = await this.store(call, carriage, limit, request);
      if (busy) return busy;
      const overrides = request.assistant.assistantOverrides ?? {};
      if (server) {
        // The call's first event is the assistant-request.
        const reply = await this.o.sink.requestAssistant(
          { call, assistant: placeholderAssistant(), messages: [], phoneProvider },
          {
            url: server.url,
            headers: server.headers ?? {},
            ...(server.secret ? { secret: server.secret } : {}),
            timeoutMs: Math.round((server.timeoutSeconds ?? 5) * 1000),
            format: server.format ?? 'interactly',
          },
          signal
            ? AbortSignal.any([AbortSignal.timeout(ASSISTANT_REQUEST_BUDGET_MS), signal])
            : AbortSignal.timeout(ASSISTANT_REQUEST_BUDGET_MS),
        );
        if (reply.kind !== 'unusable' && reply.metadata)
          call.metadata = { ...call.metadata, ...reply.metadata };
        resolution = await this.resolver.interpret(
          request.teamId,
          reply,
          request.assistant,
          settings.defaultAssistantId,
        );
      } else {
        const byDefault = await this.resolver.byDefault(
          request.teamId,
          settings.defaultAssistantId,
          overrides,
        );
        resolution = byDefault
          ? { kind: 'assistant', assistant: byDefault }
          : { kind: 'none', reason: 'the number has no assistant and no server', say: APOLOGY };
      }
      if (resolution.kind === 'none')
        this.o.log?.warn({ callId: call.id, why: resolution.reason }, 'no assistant for the call');
    }
    const assistant = resolution.kind === 'assistant' ? resolution.assistant : placeholderAssistant();
    call.assistantId = assistant._id;
    await this.o.onCallCreated?.(call, assistant);

    if (resolution.kind === 'none' && request.channel !== 'web') {
      // A phone call without an assistant: the entry point speaks the apology (or forwards the
      // caller) in its own markup and hangs up; the call ends here with its terminal events.
      const session = await this.host.startSession(call, assistant, { phoneProvider });
      const forwardTo = request.phoneNumber?.fallbackDestination;
      void session
        .end({
          trigger: 'system',
          reason: `assistant-request: ${resolution.reason}`,
          notConnected: 'failed',
        })
        .catch((error: unknown) =>
          this.o.log?.error({ err: error, callId: call.id }, 'ending a refused call failed'),
        );
      return {
        kind: 'refused',
        call: session.call,
        say: resolution.say,
        ...(forwardTo ? { forwardTo } : {}),
      };
    }
    // A web call without an assistant says why as soon as its client joins, then ends.
    const endOnConnect: HangUp | undefined =
      resolution.kind === 'none'
        ? {
            trigger: 'system',
            reason: `assistant-request: ${resolution.reason}`,
            say: resolution.say,
            error: true,
          }
        : undefined;
    const mediaTtlMs =
      request.mediaTtlMs ??
      (request.channel !== 'web' && request.direction === 'outbound'
        ? OUTBOUND_MEDIA_TTL_MS
        : this.o.mediaTtlMs);
    const mediaExpiresAt = this.o.clock.now() + mediaTtlMs;
    const mediaToken = await this.o.tokens.issue({
      callId: call.id,
      teamId: call.teamId,
      expiresAt: mediaExpiresAt,
      ...(endOnConnect ? { hangUp: endOnConnect } : {}),
    });
    const session = await this.host.startSession(call, assistant, {
      phoneProvider,
      mediaTtlMs,
      ...(endOnConnect ? { endOnConnect } : {}),
    });
    return { kind: 'admitted', call: session.call, mediaToken, mediaExpiresAt };
  }

  /**
   * Stores the new call, within the team's limit of concurrent calls when it has one. Over it:
   * an API request gets 429 (thrown); an inbound phone call is stored, ended `busy` with its
   * terminal events, and refused with a spoken busy message (returned).
   */
  private async store(
    call: Call,
    carriage: CallCarriage,
    limit: number | undefined,
    request: AdmitRequest,
  ): Promise<Admission | undefined> {
    if (limit === undefined) {
      await this.o.insertCall(call, carriage);
      return undefined;
    }
    try {
      await insertWithinLimit(this.o.db, call, carriage, limit);
      return undefined;
    } catch (error) {
      if (!(error instanceof CallLimitReached)) throw error;
      if (request.channel === 'web' || request.direction === 'outbound') throw error.toApiError();
      this.o.log?.warn({ teamId: call.teamId, limit }, 'inbound call refused: the team is at its call limit');
      const assistant = placeholderAssistant();
      call.assistantId = assistant._id;
      await this.o.insertCall(call, carriage);
      await this.o.onCallCreated?.(call, assistant);
      const session = await this.host.startSession(call, assistant, {
        phoneProvider: phoneProviderOf(request.channel),
      });
      void session
        .end({ trigger: 'system', reason: error.message, notConnected: 'busy' })
        .catch((e: unknown) =>
          this.o.log?.error({ err: e, callId: call.id }, 'ending a refused call failed'),
        );
      return { kind: 'refused', call: session.call, say: BUSY_MESSAGE };
    }
  }

  /**
   * Redeems a media token (single use, any server sharing the database). A call admitted by
   * another server is claimed here (its row's owner) and runs here from now on. A draining
   * server refuses a web client before redeeming its token, so that it can join again through
   * another server; a carrier's media stream, which cannot, is still accepted.
   */
  async acceptMedia(callId: string, token: string | undefined): Promise<MediaAcceptance> {
    if (this.host.draining && (await this.channelOf(callId)) === 'web')
      return {
        ok: false,
        code: 'conflict',
        reason: 'this server is shutting down: join again (the token is still valid)',
      };
    const entry = token ? await this.o.tokens.redeem(callId, token, this.o.clock.now()) : undefined;
    if (!entry) return { ok: false, code: 'bad_token', reason: 'missing, unknown or expired media token' };
    const session = this.host.session(callId) ?? (await this.adopt(entry.teamId, callId, entry.hangUp));
    if (!session) return { ok: false, code: 'not_found', reason: 'call not found' };
    if (session.call.status !== 'queued')
      return { ok: false, code: 'conflict', reason: 'the call is not waiting for its media' };
    this.host.mediaArrived(callId);
    return {
      ok: true,
      call: session.call,
      attach: (transport) => session.attach(this.host.transportFor(callId, transport)),
      release: async (reason) => {
        await session.end({ trigger: 'system', reason, notConnected: 'no-answer' });
      },
    };
  }

  async end(teamId: string, callId: string, reason: string): Promise<void> {
    await this.host.end(teamId, callId, reason);
  }

  async setCarrierCallId(callId: string, carrierCallId: string): Promise<void> {
    await setCarrierCallId(this.o.db, callId, carrierCallId);
  }

  async findByCarrierId(
    channel: Channel,
    carrierCallId: string,
  ): Promise<{ call: Call; phoneNumberId?: string } | undefined> {
    const row = await findCallByCarrierId(this.o.db, channel, carrierCallId);
    if (!row) return undefined;
    return { call: toCall(row), ...(row.phone_number_id ? { phoneNumberId: row.phone_number_id } : {}) };
  }

  /** A call admitted by another server whose media came here: claimed, and run here. */
  private async adopt(
    teamId: string,
    callId: string,
    hangUp: HangUp | undefined,
  ): Promise<CallSession | undefined> {
    const adopted = await this.o.adopt?.(callId);
    if (!adopted || adopted.call.teamId !== teamId) return undefined;
    const channel = await this.channelOf(callId);
    // Adopted while this server waited for the claim (two cannot: the token is single use).
    return (
      this.host.session(callId) ??
      (await this.host.startSession(adopted.call, adopted.assistant, {
        phoneProvider: phoneProviderOf(channel),
        queuedRecorded: true,
        ...(hangUp ? { endOnConnect: hangUp } : {}),
      }))
    );
  }

  private async channelOf(callId: string): Promise<string | undefined> {
    const row = await this.o.db
      .selectFrom('calls')
      .select('channel')
      .where('id', '=', callId)
      .executeTakeFirst();
    return row?.channel;
  }

  /** The assistant named by the request or its phone number; undefined: ask the server. */
  private async choiceOf(request: AdmitRequest): Promise<AssistantChoice | undefined> {
    const { assistant } = request;
    if (assistant.assistantId || assistant.assistant) return assistant;
    const numbers = request.phoneNumber?.assistantId;
    if (!numbers) return undefined;
    // The number's assistant was deleted meanwhile: as if it named none.
    if (!(await this.resolver.load(request.teamId, numbers))) {
      this.o.log?.warn({ assistantId: numbers }, "the phone number's assistant does not exist");
      return undefined;
    }
    return { ...assistant, assistantId: numbers };
  }

  private newCall(request: AdmitRequest): Call {
    const web = request.channel === 'web';
    const id = web ? newWebCallId() : newPhoneCallId();
    const call = newWebCall({
      id,
      teamId: request.teamId,
      assistantId: '',
      userNumber: request.customer.number ?? (web ? `web-${request.customer.name ?? id}` : ''),
      now: this.o.clock.now(),
      // The call (API, events, webhooks) shows the overrides as stored assistants are shown:
      // secrets dropped, header values redacted. The resolved assistant keeps them, for routing.
      assistantOverrides: redactSecrets(request.assistant.assistantOverrides ?? {}),
      metadata: request.metadata ?? {},
    });
    if (web) return call;
    const ringing = request.direction === 'inbound';
    return {
      ...call,
      callType: 'phone',
      direction: request.direction,
      assistantNumber: request.phoneNumber?.number ?? '',
      phoneCallStatus: ringing ? 'ringing' : 'queued',
      phoneCallStatusReason: ringing ? 'Call is ringing' : 'Call is queued',
    };
  }
}
