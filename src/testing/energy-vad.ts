import type { Vad, VadOptions } from '../vad/vad.js';

/** A trivial VAD for tests and the benchmark: mean absolute amplitude over a threshold. */
export class EnergyVad implements Vad {
  readonly name = 'energy';
  readonly frameSamples: number;

  constructor(
    options: Pick<VadOptions, 'sampleRate' | 'frameMs'>,
    private readonly threshold = 500,
  ) {
    this.frameSamples = (options.sampleRate * options.frameMs) / 1000;
  }

  isSpeech(frame: Int16Array): boolean {
    let sum = 0;
    for (let i = 0; i < frame.length; i++) {
      const v = frame[i] as number;
      sum += v < 0 ? -v : v;
    }
    return sum / frame.length > this.threshold;
  }

  close(): void {}
}
