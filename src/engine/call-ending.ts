/**
 * The end of one call, whoever ends it (caller, assistant, system, carrier, a takeover):
 * `hangUp` says a goodbye where there is one and waits (bounded) for it to play; `finalize`
 * stops everything, emits exactly one terminal status, releases the caller, then builds the
 * end-of-call report (recording, analysis, cost); `abandon` lets go without recording more.
 * Whatever the race, the first end wins and every later one gets its promise.
 */
import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { Call } from '../contract/call-schema.js';
import type { PriceTable } from '../cost/prices.js';
import { meteredLlm } from '../cost/usage.js';
import { isTerminal, type LifecycleEvent, transition } from './call-lifecycle.js';
import { type CallAnalyzer, type CallReporter, endOfCall } from './call-reporter.js';
import type { CallState, HangUp } from './call-state.js';
import { defaultEndedReason } from './ended-reason.js';
import type { EngineProviders } from './providers.js';

export interface CallEndingDeps {
  state: CallState;
  reporter: CallReporter;
  providers: EngineProviders;
  analyze: CallAnalyzer;
  prices?: PriceTable;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  finishRecording?(
    call: Call,
  ): Promise<{ recording: { s3Bucket?: string; path: string }; recordingUrl: string } | undefined>;
  /** Stops caller input (VAD, STT). */
  closeInput(): void;
}

export class CallEnding {
  private ending: Promise<Call> | undefined;
  private finalCall: Call | undefined;
  private resolveDone!: (call: Call) => void;
  /** Resolves with the final Call after the end-of-call report was recorded (or the call was let go). */
  readonly done: Promise<Call>;

  constructor(private readonly d: CallEndingDeps) {
    this.done = new Promise<Call>((resolve) => {
      this.resolveDone = resolve;
    });
  }

  hangUp(h: HangUp): Promise<Call> {
    if (this.ending) return this.ending;
    const s = this.d.state;
    s.advance('ending');
    this.ending = (async () => {
      s.timers.cancelAll();
      const speech = s.speech;
      if (h.say && speech && s.call.status === 'ongoing') {
        s.reply?.abort.abort(new Error('hanging up'));
        s.reply = undefined;
        await s.speechIdle(s.timing.goodbyeTimeoutMs);
        const goodbye = speech.say(s.conversation.assistantMessageId(s.clock.now()), h.say, {
          interruptible: false,
          meta: { system: true },
        });
        await s.played(goodbye.finished, s.timing.goodbyeTimeoutMs);
      }
      return this.finalize(h);
    })();
    return this.ending;
  }

  /**
   * Stops the call here without recording anything more: another process took it over (this
   * one stalled past the recovery window) and finishes it.
   */
  abandon(reason: string): void {
    if (this.finalCall) return;
    const s = this.d.state;
    s.advance('ended');
    this.d.reporter.abandon();
    this.d.log?.warn({ callId: s.call.id, reason }, 'call stopped here without further events');
    this.stopAll(reason);
    void s.transport?.hangUp({ cause: 'taken-over', reason });
    this.ending ??= Promise.resolve(s.call);
    this.settle(s.call);
  }

  private stopAll(reason: string): void {
    const s = this.d.state;
    s.timers.cancelAll();
    s.abort.abort(new Error(reason));
    s.reply?.abort.abort(new Error(reason));
    s.reply = undefined;
    s.speech?.close();
    this.d.closeInput();
  }

  private settle(call: Call): void {
    this.finalCall = call;
    this.resolveDone(call);
  }

  private async finalize(h: HangUp): Promise<Call> {
    const s = this.d.state;
    const { reporter } = this.d;
    s.advance('ended');
    this.stopAll('call ended');
    if (!isTerminal(s.call)) {
      const notConnected = s.call.status === 'queued' ? (h.notConnected ?? 'canceled') : undefined;
      let event: LifecycleEvent;
      if (notConnected) {
        event = {
          type: 'not-connected',
          phoneCallStatus: notConnected,
          reason: h.reason,
          trigger: h.trigger,
        };
      } else if (h.forwardTo) {
        event = { type: 'forward', to: h.forwardTo, trigger: h.trigger };
      } else {
        event = { type: 'end', trigger: h.trigger, reason: h.reason, ...(h.error ? { error: true } : {}) };
      }
      const endedReason =
        h.endedReason ??
        defaultEndedReason(
          {
            trigger: h.trigger,
            ...(h.error ? { error: true } : {}),
            ...(h.forwardTo && !notConnected ? { forwarded: true } : {}),
            ...(notConnected ? { notConnected } : {}),
          },
          s.phoneProvider,
        );
      s.call = { ...transition(s.call, event, s.clock.now(), s.connectedAt), endedReason };
    }
    s.events.emit({ type: 'status-changed', call: s.call });
    // The caller is released before post-call work: analysis never holds the connection. A
    // transferred caller is the carrier's now: that line is not hung up.
    if (!h.transferred) void s.transport?.hangUp({ cause: h.cause ?? 'completed', reason: h.reason });
    const [recorded] = await Promise.all([
      this.d.finishRecording?.(s.call).catch((error: unknown) => {
        this.d.log?.error({ err: error, callId: s.call.id }, 'finishing the recording failed');
        return undefined;
      }),
      reporter.flushed(),
    ]);
    if (recorded) s.call = { ...s.call, recording: recorded.recording };
    // Taken over meanwhile: the other process reports the call; nothing more is built here.
    if (reporter.ownershipLost) {
      this.settle(s.call);
      return s.call;
    }
    const { assistant, meter } = s;
    const ended = await endOfCall({
      call: s.call,
      assistant,
      messages: s.conversation.messages,
      chat: s.conversation.chat,
      clock: s.clock,
      analyze: this.d.analyze,
      llm: (provider, model) =>
        meteredLlm(
          this.d.providers.llm(
            {
              ...assistant,
              assistantProvider: provider as AssistantSpec['assistantProvider'],
              assistantModel: model,
            },
            // After the call's terminal status, a fallback taking over is logged, not an event.
            (error) =>
              this.d.log?.warn({ callId: s.call.id, error: error.toEventError() }, 'analysis: LLM fell back'),
          ),
          meter,
          'analysis',
          provider,
        ),
      // Read after analysis (its usage included); audio was metered at the terminal status.
      usage: () => meter.usage,
      ...(this.d.prices ? { prices: this.d.prices } : {}),
      ...(recorded ? { recordingUrl: recorded.recordingUrl } : {}),
      providerNames: {
        llm: assistant.assistantProvider,
        stt: s.speechConfig.stt.provider,
        tts: s.speechConfig.tts.provider,
      },
      phoneProvider: s.phoneProvider,
    });
    s.call = ended.call;
    s.events.emit({ type: 'ended', call: s.call, report: ended.report });
    await reporter.flushed();
    this.settle(s.call);
    return s.call;
  }
}
