/**
 * The caller's side of one call: every frame goes (synchronously, without allocation) through
 * arrival statistics, the VAD and endpointing, and into the STT stream; transcripts come back
 * from the STT's async iterator. Handlers are called synchronously.
 */
import type { Clock } from '../shared/clock.js';
import { ProviderError } from '../shared/provider-error.js';
import type { SttEvent, SttProvider, SttStream } from '../stt/stt.js';
import type { Vad } from '../vad/vad.js';
import { AudioInputStats } from './audio-input-stats.js';
import { Endpointer, VadEdge } from './endpointing.js';

export type SttFinal = Extract<SttEvent, { type: 'final' }>;

export interface UserInputHandlers {
  onSpeechStart(): void;
  onSpeechEnd(): void;
  onPartial(text: string): void;
  onFinal(final: SttFinal, vadMs: number): void;
  onError(error: ProviderError): void;
}

export interface UserInputOptions {
  clock: Clock;
  vad: Vad;
  stt: SttProvider;
  sampleRate: 8000 | 16000;
  frameMs: number;
  language: string;
  endpointingMs: number;
  expectedPhrases?: readonly string[];
  handlers: UserInputHandlers;
}

export class UserInput {
  readonly stats: AudioInputStats;
  readonly endpointer: Endpointer;
  private readonly stream: SttStream;
  private readonly abort = new AbortController();
  private closed = false;
  private pendingPhrases: { phrases: readonly string[] | undefined } | undefined;
  private readonly consumed: Promise<void>;

  constructor(private readonly o: UserInputOptions) {
    this.stats = new AudioInputStats(o.frameMs);
    this.endpointer = new Endpointer(o.vad, { frameMs: o.frameMs, endpointingMs: o.endpointingMs });
    this.stream = o.stt.stream(
      {
        sampleRate: o.sampleRate,
        language: o.language,
        ...(o.expectedPhrases ? { expectedPhrases: o.expectedPhrases } : {}),
      },
      this.abort.signal,
    );
    this.consumed = this.consume();
  }

  /** Speech in the current utterance so far (ms). */
  get speechMs(): number {
    return this.endpointer.currentSpeechMs;
  }

  get speaking(): boolean {
    return this.endpointer.speaking;
  }

  pushFrame(frame: Int16Array): void {
    if (this.closed) return;
    this.stats.onFrame(this.o.clock.now());
    const edge = this.endpointer.push(frame);
    this.stream.push(frame);
    if (edge === VadEdge.SpeechStart) this.o.handlers.onSpeechStart();
    else if (edge === VadEdge.SpeechEnd) {
      this.stream.flush();
      if (this.pendingPhrases) {
        const { phrases } = this.pendingPhrases;
        this.pendingPhrases = undefined;
        this.stream.setExpectedPhrases?.(phrases);
      }
      this.o.handlers.onSpeechEnd();
    }
  }

  /**
   * Changes the grammar for the next utterance. While the caller is still speaking (the STT may
   * already have given its final), the change waits for the end of speech and its flush:
   * switching a pocketsphinx stream before that flush loses the next utterance.
   */
  setExpectedPhrases(phrases: readonly string[] | undefined): void {
    if (this.endpointer.speaking) {
      this.pendingPhrases = { phrases };
      return;
    }
    this.pendingPhrases = undefined;
    this.stream.setExpectedPhrases?.(phrases);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.o.vad.close();
    try {
      await this.stream.close();
    } finally {
      this.abort.abort(new Error('call ended'));
      await this.consumed;
    }
  }

  private async consume(): Promise<void> {
    try {
      for await (const event of this.stream) {
        if (this.closed) break;
        if (event.type === 'partial') {
          if (event.text.trim()) this.o.handlers.onPartial(event.text);
        } else if (event.type === 'final') {
          if (event.text.trim()) this.o.handlers.onFinal(event, this.endpointer.takeSpeechMs());
        } else {
          this.o.handlers.onError(event.error);
        }
      }
    } catch (error) {
      if (this.closed) return;
      this.o.handlers.onError(ProviderError.from(error, 'stt_error', this.o.stt.name, 'stream_failed'));
    }
  }
}
