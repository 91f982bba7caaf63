/**
 * Arrival statistics of caller audio, per frame with no allocation. A frame's lag is its
 * arrival time minus when it was due (first arrival + audio received before it); the smallest
 * lag seen is the baseline, so a frame is late by `lag - minLag`. A frame later than two frames
 * counts as a delayed packet. Per-turn figures reset with `takeTurn()`.
 */
export class AudioInputStats {
  totalAudioMs = 0;
  private firstArrival = -1;
  private minLag = Number.POSITIVE_INFINITY;
  private turnMaxDelayMs = 0;
  private turnDelayedPackets = 0;

  constructor(private readonly frameMs: number) {}

  onFrame(arrivalMs: number): void {
    if (this.firstArrival < 0) this.firstArrival = arrivalMs;
    const lag = arrivalMs - (this.firstArrival + this.totalAudioMs);
    if (lag < this.minLag) this.minLag = lag;
    const delay = lag - this.minLag;
    if (delay > this.turnMaxDelayMs) this.turnMaxDelayMs = delay;
    if (delay > 2 * this.frameMs) this.turnDelayedPackets++;
    this.totalAudioMs += this.frameMs;
  }

  get hasAudio(): boolean {
    return this.firstArrival >= 0;
  }

  takeTurn(): { audioDelayPerTurnMs: number; delayedPacketsPerTurnCount: number } {
    const out = {
      audioDelayPerTurnMs: Math.round(this.turnMaxDelayMs),
      delayedPacketsPerTurnCount: this.turnDelayedPackets,
    };
    this.turnMaxDelayMs = 0;
    this.turnDelayedPackets = 0;
    return out;
  }
}
