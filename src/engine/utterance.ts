/**
 * One assistant message in the speech queue (see speech-output.ts): its text and sentences,
 * its playout progress (synthesised, sent, acked as played) and how it ended.
 */
import type { SpokenSentence } from './playout.js';

/** What the message is, as its owner (the call) knows it; typed, read where it matters. */
export interface UtteranceMeta {
  /** A fixed line (welcome, idle prompt, goodbye, transfer message …): no end-phrase check. */
  system?: boolean;
  /** Text the client asked to be spoken (`say` with text): kept out of the model's history. */
  clientSupplied?: boolean;
  /** The reply also asked to end or transfer the call (its end phrase must not end it twice). */
  endsCall?: boolean;
  /** A model reply: the end of the user turn it answers and the model's timing (ms). */
  llm?: {
    turnEndAt: number;
    responseLatencyMs: number;
    queueLatencyMs: number;
    firstTokenMs: number;
  };
}

export type UtteranceState = 'pending' | 'playing' | 'done' | 'interrupted' | 'skipped';

export class Utterance {
  text = '';
  readonly sentences: SpokenSentence[] = [];
  textDone = false;
  state: UtteranceState = 'pending';
  firstAudioAt: number | undefined;
  endedAt: number | undefined;
  /** Audio synthesised, sent, and acked as played (ms). */
  audioMs = 0;
  sentMs = 0;
  playedMs = 0;
  ttsGenerationMs = 0;
  ttsQueueLatencyMs: number | undefined;
  /** Time from the first sentence being ready to its first audio frame. */
  ttsFirstAudioMs: number | undefined;
  /** When the first sentence was ready for TTS, and the provider's time to its first audio. */
  firstSentenceAt: number | undefined;
  ttsFirstChunkMs: number | undefined;
  /** Sentences that came from the TTS cache (all of them: `isCachePlaying`). */
  cachedSentences = 0;
  /** Text the caller got (heard prefix for interrupted ones, the full text otherwise). */
  finalText = '';
  readonly abort = new AbortController();
  /** Frames waiting to be sent (sent ones are released). */
  readonly frames: (Int16Array | undefined)[] = [];
  readIndex = 0;
  pendingSynth = 0;
  announced = 0;
  framesSinceMark = 0;
  fullySent = false;
  private resolve!: (u: Utterance) => void;
  readonly finished: Promise<Utterance>;

  constructor(
    readonly messageId: string,
    readonly interruptible: boolean,
    readonly createdAt: number,
    /** What the owner knows about the message (its source, the model's timing …). */
    readonly meta: UtteranceMeta = {},
  ) {
    this.finished = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  get isFinished(): boolean {
    return this.state === 'done' || this.state === 'interrupted' || this.state === 'skipped';
  }

  /** @internal */
  settle(state: 'done' | 'interrupted' | 'skipped', text: string, now: number): void {
    if (this.isFinished) return;
    this.state = state;
    this.finalText = text;
    this.endedAt = now;
    this.frames.length = 0;
    this.resolve(this);
  }
}
