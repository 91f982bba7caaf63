/**
 * The caller's audio on one call: real-time admission (frames faster than real time are
 * dropped), the VAD and STT pipeline (user-input.ts) created on the first frame, barge-in when
 * the caller talks over an interruptible reply, and transcripts turned into user turns.
 */
import { AudioPacer } from '../shared/input-limits.js';
import { ProviderError } from '../shared/provider-error.js';
import type { Vad } from '../vad/vad.js';
import type { AudioInputStats } from './audio-input-stats.js';
import type { CallActions, CallState } from './call-state.js';
import { type EngineProviders, hasPhraseHints } from './providers.js';
import { type SttFinal, UserInput } from './user-input.js';

export interface CallerInputDeps {
  state: CallState;
  providers: EngineProviders;
  actions: CallActions;
  reportError(error: ProviderError): void;
}

export class CallerInput {
  private input: UserInput | undefined;
  private started = false;
  private failed = false;
  /** The caller's current utterance already became a user turn: it must not barge in on its own reply. */
  private utteranceCommitted = false;
  private readonly audioPacer: AudioPacer;

  constructor(private readonly d: CallerInputDeps) {
    this.audioPacer = new AudioPacer(d.state.limits.audioBurstMs);
  }

  /** Arrival statistics, once audio has come. */
  get stats(): AudioInputStats | undefined {
    return this.input?.stats.hasAudio ? this.input.stats : undefined;
  }

  /** Whether the caller is speaking now (VAD). */
  get speaking(): boolean {
    return this.input?.speaking ?? false;
  }

  onAudio(frame: Int16Array): void {
    const s = this.d.state;
    const hello = s.hello;
    if (!hello || !s.live) return;
    // Faster than real time (plus the jitter allowance): dropped, never reaches the STT or the meter.
    if (!this.audioPacer.admit(hello.frameMs, s.clock.now())) {
      if (this.audioPacer.droppedMs === hello.frameMs) {
        s.events.emit({
          type: 'input-refused',
          code: 'audio_too_fast',
          message: `audio arrives faster than real time; frames beyond real time + ${s.limits.audioBurstMs} ms are dropped`,
        });
      }
      return;
    }
    if (!this.input) {
      if (!this.started) this.create();
      if (!this.input || this.failed) return;
    }
    const input: UserInput = this.input;
    input.pushFrame(frame);
    if (
      !this.utteranceCommitted &&
      input.speechMs >= s.timing.interruptMinSpeechMs &&
      (s.reply !== undefined || s.speech?.busy) &&
      s.assistant.bargeInEnabled &&
      s.speech?.interruptible
    ) {
      this.d.actions.interrupt();
    }
  }

  /**
   * A user turn was committed from `stt`: the caller may still be in the utterance just
   * transcribed (the STT ended it before our endpointing did), and that speech must not barge
   * in on its own reply. Speech that started after the transcribed audio is a new utterance and may.
   */
  turnCommitted(stt: { final: SttFinal } | undefined): void {
    const input = this.input;
    this.utteranceCommitted = Boolean(
      stt && input?.speaking && input.endpointer.utteranceStartMs < stt.final.endOffsetMs,
    );
  }

  setExpectedPhrases(phrases: readonly string[] | undefined): void {
    this.input?.setExpectedPhrases(phrases);
  }

  close(): void {
    void this.input?.close().catch(() => {});
  }

  private create(): void {
    const s = this.d.state;
    const hello = s.hello;
    if (!hello) return;
    this.started = true;
    const failed = (error: unknown) => {
      this.failed = true;
      this.d.reportError(ProviderError.from(error, 'stt_error', s.speechConfig.stt.provider));
      void this.d.actions.hangUp(this.sttFailed());
    };
    let vad: ReturnType<EngineProviders['vad']>;
    try {
      vad = this.d.providers.vad({ sampleRate: hello.sampleRate, frameMs: hello.frameMs, aggressiveness: 2 });
    } catch (error) {
      failed(error);
      return;
    }
    const build = (v: Vad) => {
      if (!s.live) {
        v.close();
        return;
      }
      try {
        const stt = this.d.providers.stt(s.assistant, this.d.reportError);
        const llm = s.llm;
        const phrases = llm && hasPhraseHints(llm) ? llm.expectedPhrases(s.conversation.chat) : undefined;
        this.input = new UserInput({
          clock: s.clock,
          vad: v,
          stt,
          sampleRate: hello.sampleRate,
          frameMs: hello.frameMs,
          language: s.speechConfig.stt.language,
          endpointingMs: s.speechConfig.stt.endpointingMs,
          ...(phrases ? { expectedPhrases: phrases } : {}),
          handlers: {
            onSpeechStart: () => {
              this.utteranceCommitted = false;
              s.turn.apply('user-started');
              s.timers.cancel('idle');
            },
            onSpeechEnd: () => {
              s.turn.apply('user-paused');
            },
            onPartial: (text) => s.events.emit({ type: 'user-partial', text }),
            onFinal: (final, vadMs) => this.d.actions.commitUser(final.text.trim(), { final, vadMs }),
            onError: (error) => {
              this.d.reportError(error);
              if (!error.retryable) void this.d.actions.hangUp(this.sttFailed());
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
  }

  private sttFailed() {
    return {
      trigger: 'system' as const,
      reason: 'STT connection failed',
      error: true,
      endedReason: `pipeline-error-${this.d.state.speechConfig.stt.provider}`,
    };
  }
}
