/**
 * The conversation loop of one call: a user turn is stored and answered (responder.ts), the
 * caller may barge in, assistant messages are stored as heard once they end, end-call phrases
 * and the endCall/transferCall tools end the call, and the idle timer reprompts once and then
 * hangs up. Transfers and DTMF go through `CallControl` (call-control.ts).
 */
import { meteredLlm } from '../cost/usage.js';
import { conversationLimitReached } from '../shared/input-limits.js';
import type { ProviderError } from '../shared/provider-error.js';
import type { CallControl } from './call-control.js';
import type { CallReporter } from './call-reporter.js';
import type { CallActions, CallState } from './call-state.js';
import type { CallerInput } from './caller-input.js';
import { matchesPhrase } from './end-phrases.js';
import { assistantMessageMetrics, userMessageMetrics } from './message-metrics.js';
import { hasPhraseHints } from './providers.js';
import { type ReplyAction, runReply } from './responder.js';
import type { SttFinal } from './user-input.js';
import type { Utterance } from './utterance.js';

export interface CallRepliesDeps {
  state: CallState;
  reporter: CallReporter;
  input: CallerInput;
  control: CallControl;
  actions: Pick<CallActions, 'hangUp'>;
  reportError(error: ProviderError): void;
  log?: { error(obj: object, msg: string): void };
  /** Per reply: end of user turn → first audio out, and the provider time inside it (bench). */
  onReplyLatency?(sample: { totalMs: number; providerMs: number }): void;
}

export class CallReplies {
  private idleReprompted = false;

  constructor(private readonly d: CallRepliesDeps) {}

  // ---- user turns ---------------------------------------------------------------------------
  commitUser(text: string, stt?: { final: SttFinal; vadMs: number }): void {
    const s = this.d.state;
    const speech = s.speech;
    if (!s.live || !speech) return;
    if (this.overLimit(text.length, true)) return;
    const now = s.clock.now();
    s.timers.cancel('idle');
    this.idleReprompted = false;
    if (s.reply || speech.busy) {
      const canInterrupt = s.assistant.bargeInEnabled && speech.interruptible;
      if (canInterrupt || !speech.speaking) this.interrupt();
    }
    this.d.input.turnCommitted(stt);
    const stats = this.d.input.stats;
    const metrics = userMessageMetrics({
      timeline: s.conversation.timeline(now),
      ...(stats ? { audio: { totalAudioReceivedMs: stats.totalAudioMs, ...stats.takeTurn() } } : {}),
      ...(stt ? { stt } : {}),
    });
    const message = s.conversation.addUser(s.conversation.nextUserMessageId(), text, now, metrics);
    s.events.emit({ type: 'user-message', message });
    s.turn.apply('user-turn');
    if (matchesPhrase(text, s.assistant.endCallPhrases)) {
      void this.d.actions.hangUp({
        trigger: 'user',
        reason: 'Customer ended the call',
        say: s.assistant.endCallMessage,
      });
      return;
    }
    // During a transfer the caller's words are kept; the transfer's outcome decides what follows.
    if (s.transferringTo !== undefined) return;
    s.timers.set('hang', s.timing.hangAfterMs, () => {
      if (s.live) s.events.emit({ type: 'hang' });
    });
    this.startReply(now);
  }

  /** Ends the call when `more` characters (one more user turn when `turn`) pass a per-call limit. */
  overLimit(more: number, turn: boolean): boolean {
    const s = this.d.state;
    const why = conversationLimitReached(
      s.limits,
      s.conversation.userTurns + (turn ? 1 : 0),
      s.conversation.chars + more,
    );
    if (!why) return false;
    void this.d.actions.hangUp({
      trigger: 'system',
      reason: `Call limit reached: ${why}`,
      endedReason: 'exceeded-call-limits',
      error: true,
      cause: 'limit-reached',
    });
    return true;
  }

  interrupt(): void {
    const s = this.d.state;
    // A transfer under way is not cut off: its outcome decides what the caller hears next.
    if (s.transferringTo !== undefined) return;
    s.reply?.abort.abort(new Error('interrupted'));
    s.reply = undefined;
    s.timers.cancel('hang');
    s.speech?.interrupt();
    s.turn.apply('interrupted');
  }

  // ---- replies ------------------------------------------------------------------------------
  private startReply(turnEndAt: number): void {
    const s = this.d.state;
    const { llm, speech } = s;
    if (!llm || !speech) return;
    const current = { abort: new AbortController() };
    s.reply = current;
    runReply(
      {
        clock: s.clock,
        llm: meteredLlm(llm, s.meter, 'llm', s.assistant.assistantProvider),
        assistant: s.assistant,
        conversation: s.conversation,
        speech,
        reporter: this.d.reporter,
        interruptible: s.assistant.bargeInEnabled,
        onError: this.d.reportError,
        transfer: (target, signal) => this.d.control.transfer(target, signal),
        sendDtmf: (digits, signal) => this.d.control.sendDtmf(digits, signal),
      },
      { turnEndAt },
      current.abort.signal,
    )
      .then(
        (action) => {
          if (s.reply !== current) return;
          s.reply = undefined;
          if (llm && hasPhraseHints(llm))
            this.d.input.setExpectedPhrases(llm.expectedPhrases(s.conversation.chat));
          return this.afterReply(action);
        },
        (error: unknown) => {
          if (s.reply === current) s.reply = undefined;
          this.d.log?.error({ err: error, callId: s.call.id }, 'reply failed');
        },
      )
      .finally(() => {
        if (!s.reply && !s.speech?.busy && s.live) {
          s.turn.apply('reply-done');
          this.armIdle();
        }
      });
  }

  private async afterReply(action: ReplyAction): Promise<void> {
    const s = this.d.state;
    if (action.type === 'end') {
      await s.speechIdle(s.timing.goodbyeTimeoutMs);
      await this.d.actions.hangUp({ trigger: 'bot', reason: 'Assistant ended the call' });
    } else if (action.type === 'transfer') {
      // A medium that cannot transfer: the call ends as forwarded after the message.
      await s.speechIdle(s.timing.goodbyeTimeoutMs);
      await this.d.actions.hangUp({
        trigger: 'bot',
        reason: `Forwarded to ${action.to}`,
        forwardTo: action.to,
        ...(action.message ? { say: action.message } : {}),
      });
    } else if (action.type === 'transferred') {
      await this.d.control.transferred(action.to);
    }
  }

  // ---- speech out ---------------------------------------------------------------------------
  onUtteranceStart(u: Utterance): void {
    const s = this.d.state;
    s.turn.apply('reply-started');
    s.timers.cancel('hang');
    s.timers.cancel('idle');
    const llm = u.meta.llm;
    if (this.d.onReplyLatency && llm && u.firstAudioAt !== undefined) {
      // Provider time: the model until the first sentence was complete, then TTS to first audio.
      const requestAt = llm.turnEndAt + llm.queueLatencyMs;
      const firstSentenceAt = u.firstSentenceAt ?? u.createdAt;
      const providerMs = Math.max(0, firstSentenceAt - requestAt) + (u.ttsFirstChunkMs ?? 0);
      this.d.onReplyLatency({ totalMs: u.firstAudioAt - llm.turnEndAt, providerMs });
    }
  }

  onUtteranceEnd(u: Utterance): void {
    const s = this.d.state;
    if (s.phase === 'ended') return;
    if (u.state === 'skipped') {
      if (u.text.trim()) s.conversation.skip(u.messageId, u.text, u.createdAt);
    } else {
      const at = u.firstAudioAt ?? u.createdAt;
      const stats = this.d.input.stats;
      const metrics = assistantMessageMetrics({
        u,
        timeline: s.conversation.timeline(at),
        ...(stats ? { totalAudioReceivedMs: stats.totalAudioMs } : {}),
        audioOutput: s.speech?.audio ?? false,
      });
      const interrupted = u.state === 'interrupted';
      const message = s.conversation.addAssistant(
        u.messageId,
        u.finalText,
        at,
        metrics,
        interrupted,
        u.meta.clientSupplied === true,
      );
      s.events.emit({ type: 'assistant-message', message });
      if (
        s.live &&
        u.state === 'done' &&
        !u.meta.system &&
        !u.meta.endsCall &&
        matchesPhrase(u.finalText, s.assistant.endCallPhrases)
      ) {
        void s.speechIdle(s.timing.goodbyeTimeoutMs).then(() =>
          this.d.actions.hangUp({
            trigger: 'bot',
            reason: 'Assistant ended the call',
            say: s.assistant.endCallMessage,
          }),
        );
      }
    }
    if (!s.speech?.busy) {
      s.wakeIdleWaiters();
      if (!s.reply && s.live) {
        s.turn.apply('reply-done');
        this.armIdle();
      }
    }
  }

  // ---- idle ---------------------------------------------------------------------------------
  armIdle(): void {
    const s = this.d.state;
    s.timers.cancel('idle');
    if (!s.live || !s.speech) return;
    s.timers.set('idle', s.assistant.idleTimeoutSeconds * 1000, () => this.onIdle());
  }

  private onIdle(): void {
    const s = this.d.state;
    const speech = s.speech;
    if (!s.live || !speech) return;
    if (s.turn.state !== 'listening' || this.d.input.speaking || speech.busy || s.reply) {
      this.armIdle();
      return;
    }
    if (!this.idleReprompted && s.assistant.idleMessage) {
      this.idleReprompted = true;
      speech.say(s.conversation.assistantMessageId(s.clock.now()), s.assistant.idleMessage, {
        interruptible: true,
        meta: { system: true },
      });
      return;
    }
    void this.d.actions.hangUp({
      trigger: 'system',
      reason: 'Customer did not respond',
      endedReason: 'silence-timed-out',
      say: s.assistant.endCallMessage,
    });
  }
}
