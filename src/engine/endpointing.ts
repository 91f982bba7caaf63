import type { Vad } from '../vad/vad.js';

/**
 * Endpointing on top of a VAD, run synchronously on every incoming frame with no allocation:
 * a run of `startMs` of speech starts an utterance, a run of `endpointingMs` of silence ends it.
 * Offsets are milliseconds of caller audio since the stream started.
 */
export const VadEdge = { None: 0, SpeechStart: 1, SpeechEnd: 2 } as const;
export type VadEdge = (typeof VadEdge)[keyof typeof VadEdge];

export interface EndpointingOptions {
  frameMs: number;
  /** Speech needed before an utterance counts as started (filters clicks). Default 60 ms. */
  startMs?: number;
  /** Silence that ends the utterance. Default 500 ms. */
  endpointingMs?: number;
}

export class Endpointer {
  readonly frameMs: number;
  private readonly startMs: number;
  private readonly endMs: number;
  /** Caller audio pushed so far, ms. */
  positionMs = 0;
  speaking = false;
  private speechRunMs = 0;
  private silenceRunMs = 0;
  /** Start and end of the current (or last) utterance, ms of caller audio. */
  utteranceStartMs = 0;
  utteranceEndMs = 0;
  /** Speech heard in the current utterance so far, ms. */
  utteranceSpeechMs = 0;
  /** Speech heard since the last `takeSpeechMs()`, ms (for the `vadMs` of the next user message). */
  private pendingSpeechMs = 0;

  constructor(
    private readonly vad: Vad,
    options: EndpointingOptions,
  ) {
    this.frameMs = options.frameMs;
    this.startMs = options.startMs ?? 60;
    this.endMs = options.endpointingMs ?? 500;
  }

  push(frame: Int16Array): VadEdge {
    const speech = this.vad.isSpeech(frame);
    this.positionMs += this.frameMs;
    if (speech) {
      this.pendingSpeechMs += this.frameMs;
      this.silenceRunMs = 0;
      this.speechRunMs += this.frameMs;
      if (this.speaking) {
        this.utteranceSpeechMs += this.frameMs;
        return VadEdge.None;
      }
      if (this.speechRunMs >= this.startMs) {
        this.speaking = true;
        this.utteranceStartMs = this.positionMs - this.speechRunMs;
        this.utteranceSpeechMs = this.speechRunMs;
        return VadEdge.SpeechStart;
      }
      return VadEdge.None;
    }
    this.speechRunMs = 0;
    if (!this.speaking) return VadEdge.None;
    this.silenceRunMs += this.frameMs;
    if (this.silenceRunMs >= this.endMs) {
      this.speaking = false;
      this.utteranceEndMs = this.positionMs - this.silenceRunMs;
      this.silenceRunMs = 0;
      return VadEdge.SpeechEnd;
    }
    return VadEdge.None;
  }

  /** Speech in the current utterance so far (ms); 0 when not speaking. */
  get currentSpeechMs(): number {
    return this.speaking ? this.utteranceSpeechMs : 0;
  }

  /** Returns and resets the speech heard since the last call. */
  takeSpeechMs(): number {
    const ms = this.pendingSpeechMs;
    this.pendingSpeechMs = 0;
    return ms;
  }
}
