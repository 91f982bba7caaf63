import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { Call, CallEndTrigger } from '../contract/call-schema.js';
import type { ConversationMessage } from '../contract/conversation-schema.js';
import type { PriceTable } from '../cost/prices.js';
import { meteredLlm, meteredTts, UsageMeter } from '../cost/usage.js';
import type { LlmProvider } from '../llm/llm.js';
import type { Clock, Timer } from '../shared/clock.js';
import {
  AudioPacer,
  conversationLimitReached,
  type InputLimits,
  resolveInputLimits,
} from '../shared/input-limits.js';
import { ProviderError } from '../shared/provider-error.js';
import type {
  HangUpCause,
  Transport,
  TransportClose,
  TransportHello,
} from '../transports/transport.js';
import type { Vad } from '../vad/vad.js';
import type { CallEventSink } from '../webhooks/call-event-sink.js';
import { isTerminal, type LifecycleEvent, transition } from './call-lifecycle.js';
import { CallReporter, endOfCall } from './call-reporter.js';
import { CallTimers } from './call-timers.js';
import { Conversation } from './conversation.js';
import { matchesPhrase } from './end-phrases.js';
import { assistantMessageMetrics, userMessageMetrics } from './message-metrics.js';
import type { Pacer } from './pacer.js';
import { defaultTiming, type EngineProviders, type EngineTiming, hasPhraseHints } from './providers.js';
import { type ReplyAction, runReply } from './responder.js';
import { SpeechOutput, type Utterance } from './speech-output.js';
import type { TtsCache } from './tts-cache.js';
import { TurnMachine } from './turn-state.js';
import { type SttFinal, UserInput } from './user-input.js';

/**
 * One call, wired from the small pieces: lifecycle (call-lifecycle), turns (turn-state),
 * caller audio (user-input: VAD, endpointing, STT), replies (responder), the speech queue
 * (speech-output: TTS, pacing, marks), the conversation and its metrics, and the reporter that
 * records every event in contract order. This file only routes events between them and owns
 * the end-of-call sequence.
 */
export type ResolvedAssistant = AssistantSpec & { _id: string; createdAt?: string; updatedAt?: string };

export interface CallSessionDeps {
  call: Call;
  assistant: ResolvedAssistant;
  sink: CallEventSink;
  providers: EngineProviders;
  clock: Clock;
  pacer: Pacer;
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
  /** The `queued` status-update was recorded already (the call was created on another server). */
  queuedRecorded?: boolean;
  /** Closes the call's recording, for `call.recording` and the report's `recordingUrl`. */
  finishRecording?(
    call: Call,
  ): Promise<{ recording: { s3Bucket?: string; path: string }; recordingUrl: string } | undefined>;
}

export interface HangUp {
  trigger: Exclude<CallEndTrigger, ''>;
  reason: string;
  /** Say this before hanging up (when the caller is still there). */
  say?: string;
  error?: boolean;
  forwardTo?: string;
  notConnected?: 'no-answer' | 'busy' | 'failed' | 'canceled';
  /** How the transport ends the connection (default `completed`). */
  cause?: HangUpCause;
}

export interface CallSession {
  readonly id: string;
  readonly call: Call;
  readonly messages: readonly ConversationMessage[];
  readonly turnState: string;
  /** Connects the client. Throws when a client is already attached or the call is over. */
  attach(transport: Transport): void;
  /** Ends the call (idempotent); resolves with the final Call once its last event is recorded. */
  end(hangUp: HangUp): Promise<Call>;
  /** Resolves with the final Call after the end-of-call report was recorded. */
  readonly done: Promise<Call>;
  /**
   * Stops the call here without recording anything more: another process took it over (this
   * one stalled past the recovery window) and finishes it. The client is closed with 1012.
   */
  abandon(reason: string): void;
}

export function createCallSession(deps: CallSessionDeps): CallSession {
  const { clock, assistant, providers } = deps;
  const timing = { ...defaultTiming, ...deps.timing };
  let call = deps.call;
  const conversation = new Conversation(Date.parse(call.startAt));
  const turn = new TurnMachine();
  let transport: Transport | undefined;
  let transportOpen = false;
  let hello: TransportHello | undefined;
  let connectedAt: number | undefined;
  let llm: LlmProvider | undefined;
  let speech: SpeechOutput | undefined;
  let input: UserInput | undefined;
  let inputFailed = false;
  let inputStarted = false;
  /** The caller's current utterance already became a user turn: it must not barge in on its own reply. */
  let utteranceCommitted = false;
  let reply: { abort: AbortController } | undefined;
  let ending: Promise<Call> | undefined;
  let finalized = false;
  let welcomed = false;
  let idleReprompted = false;
  const timers = new CallTimers<'idle' | 'hang' | 'max'>(clock);
  let idleWaiters: (() => void)[] = [];
  // Usage metering for call.cost (issue 6): LLM tokens and TTS characters through wrappers.
  const meter = new UsageMeter();
  const limits = resolveInputLimits(deps.limits);
  const audioPacer = new AudioPacer(limits.audioBurstMs);
  let resolveDone!: (call: Call) => void;
  const done = new Promise<Call>((resolve) => {
    resolveDone = resolve;
  });

  const reporter = new CallReporter(
    deps.sink,
    () => ({
      call,
      assistant,
      messages: conversation.messages,
      phoneProvider: transport?.providerName ?? '',
    }),
    (error) => deps.log?.error({ err: error, callId: call.id }, 'recording a call event failed'),
    {
      onRetry: (error, attempt, delayMs) => {
        // Repeated failure is surfaced (1st, 2nd, 4th, 8th … attempt), without flooding the log.
        if ((attempt & (attempt - 1)) === 0)
          deps.log?.error(
            { err: error, callId: call.id, attempt, retryInMs: delayMs },
            'recording a call event failed; retrying until it is stored',
          );
      },
      onOwnershipLost: () => abandon('the call was taken over by another server'),
    },
  );
  if (!deps.queuedRecorded) void reporter.record({ type: 'status-update' });

  const sendStatus = () =>
    transport?.send({
      type: 'status',
      status: call.status,
      phoneCallStatus: call.phoneCallStatus,
      reason: call.phoneCallStatusReason,
      callEndTriggerBy: call.callEndTriggerBy,
    });

  const reportError = (error: ProviderError) => {
    void reporter.record({ type: 'error', error: error.toEventError() });
    transport?.send({ type: 'error', code: `${error.type}:${error.code}`, message: error.message });
  };

  const asProviderError = (error: unknown, type: ProviderError['type'], provider: string) =>
    error instanceof ProviderError
      ? error
      : new ProviderError({
          type,
          code: 'unavailable',
          message: error instanceof Error ? error.message : String(error),
          provider,
          retryable: false,
          cause: error,
        });

  // ---- timers -------------------------------------------------------------------------
  const cancelIdle = () => timers.cancel('idle');
  const cancelHang = () => timers.cancel('hang');
  const armIdle = () => {
    cancelIdle();
    if (ending || !speech) return;
    timers.set('idle', assistant.idleTimeoutSeconds * 1000, onIdle);
  };
  const onIdle = () => {
    if (ending || !speech) return;
    if (turn.state !== 'listening' || input?.speaking || speech.busy || reply) {
      armIdle();
      return;
    }
    if (!idleReprompted && assistant.idleMessage) {
      idleReprompted = true;
      speech.say(conversation.assistantMessageId(clock.now()), assistant.idleMessage, {
        interruptible: true,
      }).meta.system = true;
      return;
    }
    void hangUp({ trigger: 'system', reason: 'Customer did not respond', say: assistant.endCallMessage });
  };

  const speechIdle = (timeoutMs: number) =>
    new Promise<void>((resolve) => {
      if (!speech?.busy) {
        resolve();
        return;
      }
      const timer = clock.setTimeout(resolve, timeoutMs);
      idleWaiters.push(() => {
        timer.cancel();
        resolve();
      });
    });

  // ---- speech out -------------------------------------------------------------------------
  const onUtteranceStart = (u: Utterance) => {
    turn.apply('reply-started');
    cancelHang();
    cancelIdle();
    const turnEndAt = u.meta.turnEndAt as number | undefined;
    if (deps.onReplyLatency && turnEndAt !== undefined && u.firstAudioAt !== undefined) {
      // Provider time: the model until the first sentence was complete, then TTS to first audio.
      const requestAt = turnEndAt + ((u.meta.llm as { queueLatencyMs?: number }).queueLatencyMs ?? 0);
      const firstSentenceAt = u.firstSentenceAt ?? u.createdAt;
      const providerMs = Math.max(0, firstSentenceAt - requestAt) + (u.ttsFirstChunkMs ?? 0);
      deps.onReplyLatency({ totalMs: u.firstAudioAt - turnEndAt, providerMs });
    }
  };

  const onUtteranceEnd = (u: Utterance) => {
    if (finalized) return;
    if (u.state === 'skipped') {
      if (u.text.trim()) conversation.skip(u.messageId, u.text, u.createdAt);
    } else {
      const at = u.firstAudioAt ?? u.createdAt;
      const metrics = assistantMessageMetrics({
        u,
        timeline: conversation.timeline(at),
        ...(input?.stats.hasAudio ? { totalAudioReceivedMs: input.stats.totalAudioMs } : {}),
        audioOutput: speech?.audio ?? false,
      });
      const interrupted = u.state === 'interrupted';
      const clientSupplied = u.meta.clientSupplied === true;
      conversation.addAssistant(u.messageId, u.finalText, at, metrics, interrupted, clientSupplied);
      void reporter.record({ type: 'conversation-update' });
      transport?.send({
        type: 'assistant-text',
        messageId: u.messageId,
        text: u.finalText,
        final: true,
        ...(interrupted ? { interrupted: true } : {}),
      });
      transport?.send({ type: 'metrics', messageId: u.messageId, role: 'assistant', metrics });
      if (
        !ending &&
        u.state === 'done' &&
        u.meta.system !== true &&
        u.meta.endsCall !== true &&
        matchesPhrase(u.finalText, assistant.endCallPhrases)
      ) {
        void speechIdle(timing.goodbyeTimeoutMs).then(() =>
          hangUp({ trigger: 'bot', reason: 'Assistant ended the call', say: assistant.endCallMessage }),
        );
      }
    }
    if (!speech?.busy) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
      if (!reply && !ending) {
        turn.apply('reply-done');
        armIdle();
      }
    }
  };

  // ---- replies ----------------------------------------------------------------------------
  const updatePhrases = () => {
    if (llm && hasPhraseHints(llm)) input?.setExpectedPhrases(llm.expectedPhrases(conversation.chat));
  };

  const interrupt = () => {
    reply?.abort.abort(new Error('interrupted'));
    reply = undefined;
    cancelHang();
    speech?.interrupt();
    turn.apply('interrupted');
  };

  const startReply = (turnEndAt: number) => {
    if (!llm || !speech) return;
    const current = { abort: new AbortController() };
    reply = current;
    const speechOut = speech;
    runReply(
      {
        clock,
        llm: meteredLlm(llm, meter, 'llm', assistant.assistantProvider),
        assistant,
        conversation,
        speech: speechOut,
        reporter,
        interruptible: assistant.bargeInEnabled,
        onError: reportError,
      },
      { turnEndAt },
      current.abort.signal,
    )
      .then(
        (action) => {
          if (reply !== current) return;
          reply = undefined;
          updatePhrases();
          return afterReply(action);
        },
        (error: unknown) => {
          if (reply === current) reply = undefined;
          deps.log?.error({ err: error, callId: call.id }, 'reply failed');
        },
      )
      .finally(() => {
        if (!reply && !speech?.busy && !ending) {
          turn.apply('reply-done');
          armIdle();
        }
      });
  };

  const afterReply = async (action: ReplyAction) => {
    if (action.type === 'end') {
      await speechIdle(timing.goodbyeTimeoutMs);
      await hangUp({ trigger: 'bot', reason: 'Assistant ended the call' });
    } else if (action.type === 'transfer') {
      await speechIdle(timing.goodbyeTimeoutMs);
      await hangUp({
        trigger: 'bot',
        reason: `Forwarded to ${action.to}`,
        forwardTo: action.to,
        ...(action.message ? { say: action.message } : {}),
      });
    }
  };

  /** Ends the call when `more` characters (one more user turn when `turn`) pass a per-call limit. */
  const overLimit = (more: number, turn: boolean): boolean => {
    const why = conversationLimitReached(
      limits,
      conversation.userTurns + (turn ? 1 : 0),
      conversation.chars + more,
    );
    if (!why) return false;
    void hangUp({
      trigger: 'system',
      reason: `Call limit reached: ${why}`,
      error: true,
      cause: 'limit-reached',
    });
    return true;
  };

  const commitUser = (text: string, stt?: { final: SttFinal; vadMs: number }) => {
    if (ending || !speech) return;
    if (overLimit(text.length, true)) return;
    const now = clock.now();
    cancelIdle();
    idleReprompted = false;
    if (reply || speech.busy) {
      const canInterrupt = assistant.bargeInEnabled && speech.interruptible;
      if (canInterrupt || !speech.speaking) interrupt();
    }
    // The caller may still be in the utterance just transcribed (the STT ended it before our
    // endpointing did): that speech must not barge in on its own reply. Speech that started
    // after the transcribed audio is a new utterance and may.
    utteranceCommitted = Boolean(
      stt && input?.speaking && input.endpointer.utteranceStartMs < stt.final.endOffsetMs,
    );
    const messageId = conversation.nextUserMessageId();
    const metrics = userMessageMetrics({
      timeline: conversation.timeline(now),
      ...(input?.stats.hasAudio
        ? { audio: { totalAudioReceivedMs: input.stats.totalAudioMs, ...input.stats.takeTurn() } }
        : {}),
      ...(stt ? { stt } : {}),
    });
    conversation.addUser(messageId, text, now, metrics);
    void reporter.record({ type: 'conversation-update' });
    transport?.send({ type: 'transcript', final: true, text, messageId });
    transport?.send({ type: 'metrics', messageId, role: 'user', metrics });
    turn.apply('user-turn');
    if (matchesPhrase(text, assistant.endCallPhrases)) {
      void hangUp({ trigger: 'user', reason: 'Customer ended the call', say: assistant.endCallMessage });
      return;
    }
    timers.set('hang', timing.hangAfterMs, () => {
      if (!ending) void reporter.record({ type: 'hang' });
    });
    startReply(now);
  };

  // ---- caller audio -------------------------------------------------------------------------
  const createInput = (h: TransportHello) => {
    inputStarted = true;
    const failed = (error: unknown) => {
      inputFailed = true;
      reportError(asProviderError(error, 'stt_error', assistant.config.speech?.stt?.provider ?? 'stt'));
      void hangUp({ trigger: 'system', reason: 'STT connection failed', error: true });
    };
    let vad: ReturnType<EngineProviders['vad']>;
    try {
      vad = providers.vad({ sampleRate: h.sampleRate, frameMs: h.frameMs, aggressiveness: 2 });
    } catch (error) {
      failed(error);
      return;
    }
    const build = (v: Vad) => {
      if (ending) {
        v.close();
        return;
      }
      try {
        const stt = providers.stt(assistant, reportError);
        const phrases = llm && hasPhraseHints(llm) ? llm.expectedPhrases(conversation.chat) : undefined;
        input = new UserInput({
          clock,
          vad: v,
          stt,
          sampleRate: h.sampleRate,
          frameMs: h.frameMs,
          language: assistant.config.speech?.stt?.language ?? 'en-US',
          endpointingMs: assistant.config.speech?.stt?.endpointingMs ?? 500,
          ...(phrases ? { expectedPhrases: phrases } : {}),
          handlers: {
            onSpeechStart: () => {
              utteranceCommitted = false;
              turn.apply('user-started');
              cancelIdle();
            },
            onSpeechEnd: () => {
              turn.apply('user-paused');
            },
            onPartial: (text) => transport?.send({ type: 'transcript', final: false, text }),
            onFinal: (final, vadMs) => commitUser(final.text.trim(), { final, vadMs }),
            onError: (error) => {
              reportError(error);
              if (!error.retryable)
                void hangUp({ trigger: 'system', reason: 'STT connection failed', error: true });
            },
          },
        });
      } catch (error) {
        v.close();
        failed(error);
      }
    };
    if (vad instanceof Promise) vad.then(build, failed);
    else build(vad);
  };

  // ---- transport ------------------------------------------------------------------------------
  const onHello = (h: TransportHello) => {
    if (hello || call.status !== 'queued' || ending) return;
    hello = h;
    connectedAt = clock.now();
    call = transition(call, { type: 'connect' }, connectedAt);
    void reporter.record({ type: 'status-update' });
    sendStatus();
    try {
      // A call that only says goodbye (failed assistant-request) needs no model.
      if (!deps.endOnConnect) llm = providers.llm(assistant, reportError);
    } catch (error) {
      reportError(asProviderError(error, 'llm_error', assistant.assistantProvider));
    }
    let tts: ReturnType<EngineProviders['tts']> | undefined;
    if (h.audioOutput) {
      try {
        tts = meteredTts(
          providers.tts(assistant, reportError),
          meter,
          assistant.config.speech?.tts?.provider ?? 'flite',
        );
      } catch (error) {
        reportError(asProviderError(error, 'tts_error', assistant.config.speech?.tts?.provider ?? 'tts'));
      }
    }
    const ttsConfig = assistant.config.speech?.tts;
    speech = new SpeechOutput({
      clock,
      pacer: deps.pacer,
      transport: transport as Transport,
      tts,
      ttsOptions: {
        sampleRate: h.sampleRate,
        ...(ttsConfig?.voice ? { voice: ttsConfig.voice } : {}),
        ...(ttsConfig?.speed ? { speed: ttsConfig.speed } : {}),
      },
      marks: h.marks,
      playoutGraceMs: timing.playoutGraceMs,
      ...(deps.ttsCache ? { cache: deps.ttsCache } : {}),
      onStart: onUtteranceStart,
      onEnd: onUtteranceEnd,
      onError: reportError,
    });
    timers.set(
      'max',
      assistant.maxDurationSeconds * 1000,
      () => void hangUp({ trigger: 'system', reason: 'Max call duration reached' }),
    );
    if (deps.endOnConnect) void hangUp(deps.endOnConnect);
    else if (assistant.welcomeMessageMode === 'automatic' && assistant.welcomeMessage) speakWelcome();
    else armIdle();
  };

  const speakWelcome = () => {
    if (!speech || welcomed) return;
    welcomed = true;
    speech.say('welcome-1', assistant.welcomeMessage, {
      interruptible: assistant.welcomeMessageInterruptionsEnabled,
    }).meta.system = true;
  };

  const onAudio = (frame: Int16Array) => {
    if (!hello || ending) return;
    // Faster than real time (plus the jitter allowance): dropped, never reaches the STT or the meter.
    if (!audioPacer.admit(hello.frameMs, clock.now())) {
      if (audioPacer.droppedMs === hello.frameMs) {
        transport?.send({
          type: 'error',
          code: 'audio_too_fast',
          message: `audio arrives faster than real time; frames beyond real time + ${limits.audioBurstMs} ms are dropped`,
        });
      }
      return;
    }
    if (!input) {
      if (!inputStarted) createInput(hello);
      if (!input || inputFailed) return;
    }
    const userInput = input as UserInput;
    userInput.pushFrame(frame);
    if (
      !utteranceCommitted &&
      userInput.speechMs >= timing.interruptMinSpeechMs &&
      (reply !== undefined || speech?.busy) &&
      assistant.bargeInEnabled &&
      speech?.interruptible
    ) {
      interrupt();
    }
  };

  const onClose = (info: TransportClose) => {
    transportOpen = false;
    if (ending || finalized) return;
    if (info.cause === 'hello-timeout') {
      void hangUp({ trigger: 'system', reason: 'Client sent no hello', notConnected: 'no-answer' });
    } else if (info.cause === 'pong-timeout') {
      void hangUp({ trigger: 'system', reason: 'Client stopped answering pings', notConnected: 'no-answer' });
    } else if (info.protocolError) {
      void hangUp({
        trigger: 'system',
        reason: `Client protocol error: ${info.reason}`,
        error: true,
        notConnected: 'failed',
      });
    } else if (call.status === 'queued') {
      void hangUp({
        trigger: 'user',
        reason: 'Client left before the call started',
        notConnected: 'canceled',
      });
    } else {
      void hangUp({ trigger: 'user', reason: 'Customer hung up' });
    }
  };

  // ---- the end -------------------------------------------------------------------------------
  let abandoned = false;
  const abandon = (reason: string) => {
    if (abandoned) return;
    abandoned = true;
    reporter.abandon();
    deps.log?.warn({ callId: call.id, reason }, 'call stopped here without further events');
    timers.cancelAll();
    reply?.abort.abort(new Error(reason));
    reply = undefined;
    speech?.close();
    finalized = true;
    void input?.close().catch(() => {});
    if (transportOpen) void transport?.hangUp({ cause: 'taken-over', reason });
    ending ??= Promise.resolve(call);
    resolveDone(call);
  };

  const hangUp = (h: HangUp): Promise<Call> => {
    if (ending) return ending;
    ending = (async () => {
      timers.cancelAll();
      if (h.say && speech && transportOpen && call.status === 'ongoing') {
        reply?.abort.abort(new Error('hanging up'));
        reply = undefined;
        await speechIdle(timing.goodbyeTimeoutMs);
        const goodbye = speech.say(conversation.assistantMessageId(clock.now()), h.say, {
          interruptible: false,
        });
        goodbye.meta.system = true;
        let timer: Timer | undefined;
        await Promise.race([
          goodbye.finished,
          new Promise<void>((r) => {
            timer = clock.setTimeout(r, timing.goodbyeTimeoutMs);
          }),
        ]);
        timer?.cancel();
      }
      return finalize(h);
    })();
    return ending;
  };

  const finalize = async (h: HangUp): Promise<Call> => {
    reply?.abort.abort(new Error('call ended'));
    reply = undefined;
    speech?.close();
    finalized = true;
    void input?.close().catch(() => {});
    const now = clock.now();
    let event: LifecycleEvent;
    if (call.status === 'queued') {
      event = {
        type: 'not-connected',
        phoneCallStatus: h.notConnected ?? 'canceled',
        reason: h.reason,
        trigger: h.trigger,
      };
    } else if (h.forwardTo) {
      event = { type: 'forward', to: h.forwardTo, trigger: h.trigger };
    } else {
      event = { type: 'end', trigger: h.trigger, reason: h.reason, ...(h.error ? { error: true } : {}) };
    }
    if (!isTerminal(call)) call = transition(call, event, now, connectedAt);
    void reporter.record({ type: 'status-update' });
    sendStatus();
    // The caller is released before post-call work: analysis never holds the connection.
    void transport?.hangUp({ cause: h.cause ?? 'completed', reason: h.reason });
    const [recorded] = await Promise.all([
      deps.finishRecording?.(call).catch((error: unknown) => {
        deps.log?.error({ err: error, callId: call.id }, 'finishing the recording failed');
        return undefined;
      }),
      reporter.flushed(),
    ]);
    if (recorded) call = { ...call, recording: recorded.recording };
    // Taken over meanwhile: the other process reports the call; nothing more is built here.
    if (reporter.ownershipLost) {
      resolveDone(call);
      return call;
    }
    const ended = await endOfCall({
      call,
      assistant,
      messages: conversation.messages,
      chat: conversation.chat,
      clock,
      llm: (provider, model) =>
        meteredLlm(
          providers.llm(
            {
              ...assistant,
              assistantProvider: provider as AssistantSpec['assistantProvider'],
              assistantModel: model,
            },
            // After the call's terminal status, a fallback taking over is logged, not an event.
            (error) =>
              deps.log?.warn({ callId: call.id, error: error.toEventError() }, 'analysis: LLM fell back'),
          ),
          meter,
          'analysis',
          provider,
        ),
      usage: () => {
        meterAudio();
        return meter.usage;
      },
      ...(deps.prices ? { prices: deps.prices } : {}),
      ...(recorded ? { recordingUrl: recorded.recordingUrl } : {}),
      providerNames: {
        llm: assistant.assistantProvider,
        stt: assistant.config.speech?.stt?.provider ?? 'pocketsphinx',
        tts: assistant.config.speech?.tts?.provider ?? 'flite',
      },
    });
    call = ended.call;
    await reporter.record({ type: 'end-of-call-report', report: ended.report });
    resolveDone(call);
    return call;
  };

  /** STT audio (what reached the recogniser) and telephony minutes (web calls: none). */
  const meterAudio = () => {
    // Bounded by wall-clock: never more audio than the call lasted.
    if (input)
      meter.setAudioMs(
        'stt',
        assistant.config.speech?.stt?.provider ?? 'pocketsphinx',
        Math.min(input.stats.totalAudioMs, call.assistantCallDuration),
      );
    if (call.callType === 'phone')
      meter.setAudioMs('telephony', transport?.providerName || 'phone', call.assistantCallDuration);
    else if (connectedAt !== undefined) meter.setAudioMs('telephony', 'web', call.assistantCallDuration);
  };

  return {
    get id() {
      return call.id;
    },
    get call() {
      return call;
    },
    get messages() {
      return conversation.messages;
    },
    get turnState() {
      return turn.state;
    },
    done,
    end: hangUp,
    abandon,
    attach(t: Transport) {
      if (transport) throw new Error('a client is already connected to this call');
      if (ending || isTerminal(call)) throw new Error('the call has ended');
      transport = t;
      transportOpen = true;
      t.start({
        onHello,
        onAudio,
        onUserText: (text) => {
          if (!hello || ending) return;
          const body = text.trim();
          if (!body) return;
          commitUser(body);
        },
        onMark: (id) => speech?.onMark(id),
        onSay: (text) => {
          if (!speech || ending) return;
          if (!text && !welcomed) {
            speakWelcome();
            return;
          }
          if (text === undefined) {
            if (assistant.welcomeMessage) {
              speech.say(conversation.assistantMessageId(clock.now()), assistant.welcomeMessage, {
                interruptible: assistant.bargeInEnabled,
              }).meta.system = true;
            }
            return;
          }
          // Words the client puts in the assistant's mouth: only where the assistant allows it,
          // marked as client-supplied and kept out of the model's history.
          if (assistant.clientSayEnabled !== true) {
            transport?.send({
              type: 'error',
              code: 'say_not_allowed',
              message: 'say with text is off for this assistant (clientSayEnabled); the text was not spoken',
            });
            return;
          }
          if (overLimit(text.length, false)) return;
          // A text-only client's line ends inside say(): the meta must be there from the start.
          speech.say(conversation.assistantMessageId(clock.now()), text, {
            interruptible: assistant.bargeInEnabled,
            meta: { system: true, clientSupplied: true },
          });
        },
        onEnd: () => void hangUp({ trigger: 'user', reason: 'Customer ended the call' }),
        onClose,
      });
    },
  };
}
