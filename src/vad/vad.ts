/**
 * Voice activity detection: one small interface. `isSpeech` runs on every incoming frame, so
 * implementations must be synchronous and allocation-free per frame.
 */
export interface Vad {
  readonly name: string;
  /** The frame must be exactly `frameSamples` long. */
  readonly frameSamples: number;
  isSpeech(frame: Int16Array): boolean;
  close(): void;
}

export interface VadOptions {
  sampleRate: 8000 | 16000;
  frameMs: 10 | 20 | 30;
  /** WebRTC aggressiveness 0 (least) … 3 (most aggressive filtering of non-speech). */
  aggressiveness: 0 | 1 | 2 | 3;
}

export const defaultVadOptions = {
  sampleRate: 16000,
  frameMs: 20,
  aggressiveness: 2,
} as const satisfies VadOptions;
