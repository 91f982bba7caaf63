/**
 * One call, wired from its parts: the shared state and its one `phase` (call-state), the typed
 * event stream and its subscribers (call-events: webhook reporter, client messages, metering),
 * caller audio (caller-input) and keypad digits (dtmf-input), the conversation loop
 * (call-replies), control requests (call-control), the transport binding (transport-binding)
 * and the end sequence (call-ending). This file only assembles them and exposes `CallSession`.
 */
import type { Call } from '../contract/call-schema.js';
import type { ConversationMessage } from '../contract/conversation-schema.js';
import type { PriceTable } from '../cost/prices.js';
import type { Clock } from '../shared/clock.js';
import { type InputLimits, resolveInputLimits } from '../shared/input-limits.js';
import type { ProviderError } from '../shared/provider-error.js';
import type { Transport } from '../transports/transport.js';
import { CallControl } from './call-control.js';
import { CallEnding } from './call-ending.js';
import type { CallEventSink } from './call-event-sink.js';
import { type CallEventStream, reportEvents } from './call-events.js';
import { isTerminal, transition } from './call-lifecycle.js';
import { CallReplies } from './call-replies.js';
import { type CallAnalyzer, CallReporter } from './call-reporter.js';
import {
  type CallActions,
  type CallPhase,
  CallState,
  type HangUp,
  type ResolvedAssistant,
} from './call-state.js';
import { CallerInput } from './caller-input.js';
import { DtmfInput } from './dtmf-input.js';
import type { Pacer } from './pacer.js';
import { defaultTiming, type EngineProviders, type EngineTiming } from './providers.js';
import { resolveSpeechConfig } from './speech-config.js';
import { bindTransport } from './transport-binding.js';
import type { TtsCache } from './tts-cache.js';
import { voicemailHangUp } from './voicemail.js';

export type { CallPhase, HangUp, ResolvedAssistant };

export interface CallSessionDeps {
  call: Call;
  assistant: ResolvedAssistant;
  sink: CallEventSink;
  providers: EngineProviders;
  clock: Clock;
  pacer: Pacer;
  /** Post-call analysis for the end-of-call report (`analyzeCall` of `analysis/`). */
  analyze: CallAnalyzer;
  timing?: Partial<EngineTiming>;
  /** Shared cache of synthesised sentences (fixed phrases play at once). */
  ttsCache?: TtsCache;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Per reply: end of user turn → first audio out, and the provider time inside it (bench). */
  onReplyLatency?(sample: { totalMs: number; providerMs: number }): void;
  /** Say this as soon as the call connects, then hang up (an assistant-request that failed). */
  endOnConnect?: HangUp;
  /** Prices for `call.cost` (default: the configured table). */
  prices?: PriceTable;
  /** Per-call bounds on client input (default: `defaultInputLimits`). */
  limits?: Partial<InputLimits>;
  /** `phone.provider.name` before (or without) media: a phone call that is never answered. */
  phoneProvider?: string;
  /** The `queued` status-update was recorded already (the call was created on another server). */
  queuedRecorded?: boolean;
  /** Closes the call's recording, for `call.recording` and the report's `recordingUrl`. */
  finishRecording?(
    call: Call,
  ): Promise<{ recording: { s3Bucket?: string; path: string }; recordingUrl: string } | undefined>;
}

export interface CallSession {
  readonly id: string;
  readonly call: Call;
  readonly messages: readonly ConversationMessage[];
  readonly turnState: string;
  readonly phase: CallPhase;
  /** Everything that happens on the call, typed, each happening once. */
  readonly events: CallEventStream;
  /** Connects the media. Throws when a transport is already attached or the call is over. */
  attach(transport: Transport): void;
  /**
   * A phone call not yet answered rings at the far end: one status-update (`ringing`). Ignored
   * once the call connected or ended, and when it rings already.
   */
  ringing(reason?: string): void;
  /**
   * An answering machine took the call: leave `voicemailMessage` and hang up (endedReason
   * `voicemail`); before the media connects, that happens on connect instead of the welcome.
   */
  voicemail(): void;
  /** Ends the call (idempotent); resolves with the final Call once its last event is recorded. */
  end(hangUp: HangUp): Promise<Call>;
  /** Resolves with the final Call after the end-of-call report was recorded. */
  readonly done: Promise<Call>;
  /**
   * Stops the call here without recording anything more: another process took it over (this
   * one stalled past the recovery window) and finishes it. The transport lets go (`taken-over`).
   */
  abandon(reason: string): void;
}

export function createCallSession(deps: CallSessionDeps): CallSession {
  const { assistant, providers, log } = deps;
  const state = new CallState(
    deps.call,
    assistant,
    resolveSpeechConfig(assistant),
    { ...defaultTiming, ...deps.timing },
    resolveInputLimits(deps.limits),
    deps.clock,
    deps.phoneProvider ?? '',
  );
  const reporter = new CallReporter(
    deps.sink,
    () => ({
      call: state.call,
      assistant,
      messages: state.conversation.messages,
      phoneProvider: state.phoneProvider,
    }),
    (error) => log?.error({ err: error, callId: state.call.id }, 'recording a call event failed'),
    {
      onRetry: (error, attempt, delayMs) => {
        // Repeated failure is surfaced (1st, 2nd, 4th, 8th … attempt), without flooding the log.
        if ((attempt & (attempt - 1)) === 0)
          log?.error(
            { err: error, callId: state.call.id, attempt, retryInMs: delayMs },
            'recording a call event failed; retrying until it is stored',
          );
      },
      onOwnershipLost: () => ending.abandon('the call was taken over by another server'),
    },
  );
  const reportError = (error: ProviderError) => state.events.emit({ type: 'error', error });
  const actions: CallActions = {
    hangUp: (h) => ending.hangUp(h),
    commitUser: (text, stt) => replies.commitUser(text, stt),
    interrupt: () => replies.interrupt(),
    armIdle: () => replies.armIdle(),
    overLimit: (more, turn) => replies.overLimit(more, turn),
  };
  const input = new CallerInput({ state, providers, actions, reportError });
  const control = new CallControl({ state, actions, reportError });
  const replies = new CallReplies({
    state,
    reporter,
    input,
    control,
    actions,
    reportError,
    ...(log ? { log } : {}),
    ...(deps.onReplyLatency ? { onReplyLatency: deps.onReplyLatency } : {}),
  });
  const dtmf = new DtmfInput(state, (digits) => replies.commitUser(digits));
  const ending = new CallEnding({
    state,
    reporter,
    providers,
    analyze: deps.analyze,
    ...(deps.prices ? { prices: deps.prices } : {}),
    ...(log ? { log } : {}),
    ...(deps.finishRecording ? { finishRecording: deps.finishRecording } : {}),
    closeInput: () => input.close(),
  });

  // Subscribers, in this order: the webhook reporter, then metering (the client binds on attach).
  reportEvents(state.events, reporter);
  state.events.on((event) => {
    if (event.type !== 'status-changed' || !isTerminal(event.call)) return;
    // STT audio (what reached the recogniser, never more than the call lasted) and telephony.
    const { meter } = state;
    const duration = event.call.assistantCallDuration;
    const stats = input.stats;
    if (stats)
      meter.setAudioMs('stt', state.speechConfig.stt.provider, Math.min(stats.totalAudioMs, duration));
    if (event.call.callType === 'phone')
      meter.setAudioMs('telephony', state.phoneProvider || 'phone', duration);
    else if (state.connectedAt !== undefined) meter.setAudioMs('telephony', 'web', duration);
  });
  if (!deps.queuedRecorded) state.events.emit({ type: 'status-changed', call: state.call });
  /** Said on connect, then the call ends: a failed assistant-request, or voicemail found before media. */
  let endOnConnect = deps.endOnConnect;

  return {
    get id() {
      return state.call.id;
    },
    get call() {
      return state.call;
    },
    get messages() {
      return state.conversation.messages;
    },
    get turnState() {
      return state.turn.state;
    },
    get phase() {
      return state.phase;
    },
    events: state.events,
    done: ending.done,
    end: (h) => ending.hangUp(h),
    abandon: (reason) => ending.abandon(reason),
    ringing(reason?: string) {
      if (state.phase !== 'waiting' || state.call.phoneCallStatus === 'ringing') return;
      state.call = transition(state.call, { type: 'ring', ...(reason ? { reason } : {}) }, deps.clock.now());
      state.events.emit({ type: 'status-changed', call: state.call });
    },
    voicemail() {
      if (isTerminal(state.call) || state.phase === 'ending' || state.phase === 'ended') return;
      const hangUp = voicemailHangUp(assistant);
      if (state.phase === 'waiting') endOnConnect = hangUp;
      else void ending.hangUp(hangUp);
    },
    attach(transport: Transport) {
      if (state.transport) throw new Error('a client is already connected to this call');
      if (state.phase !== 'waiting' || isTerminal(state.call)) throw new Error('the call has ended');
      bindTransport(
        {
          state,
          providers,
          pacer: deps.pacer,
          ...(deps.ttsCache ? { ttsCache: deps.ttsCache } : {}),
          input,
          replies,
          control,
          dtmf,
          actions,
          reportError,
          get endOnConnect() {
            return endOnConnect;
          },
        },
        transport,
      );
    },
  };
}
