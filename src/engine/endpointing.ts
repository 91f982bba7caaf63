/**
 * Endpointing: the VAD decision of every incoming frame through the activity detector's
 * hysteresis (a run of `startMs` of speech starts an utterance, a run of `endpointingMs` of
 * silence ends it), plus the speech durations the engine reports (`vadMs`, barge-in minimum).
 * Synchronous and allocation-free per frame. Offsets are milliseconds of caller audio.
 */
import { Activity, ActivityDetector } from '../vad/activity-detector.js';
import type { Vad } from '../vad/vad.js';

export const VadEdge = Activity;
export type VadEdge = Activity;

export interface EndpointingOptions {
  frameMs: number;
  /** Speech needed before an utterance counts as started (filters clicks). Default 60 ms. */
  startMs?: number;
  /** Silence that ends the utterance. Default 500 ms. */
  endpointingMs?: number;
}

export class Endpointer {
  readonly frameMs: number;
  private readonly detector: ActivityDetector;
  /** Speech heard in the current utterance so far, ms. */
  utteranceSpeechMs = 0;
  /** Speech heard since the last `takeSpeechMs()`, ms (for the `vadMs` of the next user message). */
  private pendingSpeechMs = 0;

  constructor(
    private readonly vad: Vad,
    options: EndpointingOptions,
  ) {
    this.frameMs = options.frameMs;
    this.detector = new ActivityDetector({
      frameMs: options.frameMs,
      minSpeechMs: options.startMs ?? 60,
      minSilenceMs: options.endpointingMs ?? 500,
    });
  }

  /** Caller audio pushed so far, ms. */
  get positionMs(): number {
    return this.detector.positionMs;
  }

  get speaking(): boolean {
    return this.detector.speaking;
  }

  /** Start of the current (or last) utterance, ms of caller audio. */
  get utteranceStartMs(): number {
    return this.detector.speechStartMs;
  }

  /** End of the last utterance (where its trailing silence began), ms of caller audio. */
  get utteranceEndMs(): number {
    return this.detector.speechEndMs;
  }

  push(frame: Int16Array): VadEdge {
    const speech = this.vad.isSpeech(frame);
    if (speech) this.pendingSpeechMs += this.frameMs;
    const wasSpeaking = this.detector.speaking;
    const edge = this.detector.push(speech);
    if (edge === Activity.SpeechStart)
      this.utteranceSpeechMs = this.detector.positionMs - this.detector.speechStartMs;
    else if (wasSpeaking && speech) this.utteranceSpeechMs += this.frameMs;
    return edge;
  }

  /** Speech in the current utterance so far (ms); 0 when not speaking. */
  get currentSpeechMs(): number {
    return this.detector.speaking ? this.utteranceSpeechMs : 0;
  }

  /** Returns and resets the speech heard since the last call. */
  takeSpeechMs(): number {
    const ms = this.pendingSpeechMs;
    this.pendingSpeechMs = 0;
    return ms;
  }
}
