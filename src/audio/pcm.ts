/**
 * Audio inside Parley is always mono signed 16-bit little-endian PCM (`Int16Array`), at the
 * sample rate a call negotiated (8000 or 16000 Hz). Frames are fixed-size: `frameMs` of audio.
 */
export type SampleRate = 8000 | 16000 | 24000 | 48000;

export interface PcmFormat {
  sampleRate: SampleRate;
  /** Duration of one frame in milliseconds (10, 20 or 30 for VAD-compatible frames). */
  frameMs: 10 | 20 | 30;
}

export function samplesPerFrame(format: PcmFormat): number {
  return (format.sampleRate * format.frameMs) / 1000;
}

export function durationMs(samples: number, sampleRate: number): number {
  return (samples * 1000) / sampleRate;
}
