/**
 * Hysteresis on top of per-frame VAD decisions: speech starts once `minSpeechMs` of consecutive
 * speech frames have been seen, and ends after `minSilenceMs` of consecutive non-speech frames.
 * Pure and synchronous: driven only by the frames pushed (no clock, no timers), allocation-free,
 * and every offset is in milliseconds of audio since the detector started (or was reset).
 */

export const Activity = { None: 0, SpeechStart: 1, SpeechEnd: 2 } as const;
export type Activity = (typeof Activity)[keyof typeof Activity];

export interface ActivityDetectorOptions {
  /** Duration of one frame (each `push`). */
  frameMs: number;
  /** Consecutive speech needed before speech counts as started (filters clicks). Default 200. */
  minSpeechMs?: number;
  /** Consecutive silence that ends speech. Default 500. */
  minSilenceMs?: number;
}

export class ActivityDetector {
  readonly frameMs: number;
  readonly minSpeechMs: number;
  readonly minSilenceMs: number;
  /** Audio seen so far, ms. */
  positionMs = 0;
  /** True between a SpeechStart and the following SpeechEnd. */
  speaking = false;
  /** Start of the current (or last) speech segment: where its first speech frame began, ms. */
  speechStartMs = 0;
  /** End of the last speech segment: where its trailing silence began, ms. */
  speechEndMs = 0;
  private speechRunMs = 0;
  private silenceRunMs = 0;

  constructor(options: ActivityDetectorOptions) {
    if (!(options.frameMs > 0)) throw new RangeError(`frameMs must be > 0, got ${options.frameMs}`);
    this.frameMs = options.frameMs;
    this.minSpeechMs = options.minSpeechMs ?? 200;
    this.minSilenceMs = options.minSilenceMs ?? 500;
    if (this.minSpeechMs < 0 || this.minSilenceMs < 0) throw new RangeError('durations must be >= 0');
  }

  /** Feeds one frame's VAD decision; returns the edge it caused, if any. */
  push(isSpeech: boolean): Activity {
    const frameStart = this.positionMs;
    this.positionMs += this.frameMs;
    if (isSpeech) {
      this.silenceRunMs = 0;
      if (this.speechRunMs === 0) this.speechStartCandidate = frameStart;
      this.speechRunMs += this.frameMs;
      if (!this.speaking && this.speechRunMs >= this.minSpeechMs) {
        this.speaking = true;
        this.speechStartMs = this.speechStartCandidate;
        return Activity.SpeechStart;
      }
      return Activity.None;
    }
    this.speechRunMs = 0;
    if (!this.speaking) return Activity.None;
    if (this.silenceRunMs === 0) this.silenceStartCandidate = frameStart;
    this.silenceRunMs += this.frameMs;
    if (this.silenceRunMs >= this.minSilenceMs) {
      this.speaking = false;
      this.silenceRunMs = 0;
      this.speechEndMs = this.silenceStartCandidate;
      return Activity.SpeechEnd;
    }
    return Activity.None;
  }

  /**
   * The audio ended (stream closed): ends speech in progress without waiting for silence.
   * The end offset is where trailing silence began, or the end of the audio.
   */
  end(): Activity {
    if (!this.speaking) return Activity.None;
    this.speaking = false;
    this.speechEndMs = this.silenceRunMs > 0 ? this.silenceStartCandidate : this.positionMs;
    this.speechRunMs = 0;
    this.silenceRunMs = 0;
    return Activity.SpeechEnd;
  }

  reset(): void {
    this.positionMs = 0;
    this.speaking = false;
    this.speechStartMs = 0;
    this.speechEndMs = 0;
    this.speechRunMs = 0;
    this.silenceRunMs = 0;
  }

  private speechStartCandidate = 0;
  private silenceStartCandidate = 0;
}
