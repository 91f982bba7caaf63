/**
 * Cuts a stream of PCM16 chunks of any length into fixed-size frames.
 *
 * Hand-written because it is a dozen lines and the point is the allocation profile: every frame
 * is delivered in the same internal buffer (valid only during the callback), so chunking costs
 * one copy per sample and no garbage.
 */
export class FrameChunker {
  readonly frameSamples: number;
  private readonly frame: Int16Array;
  private filled = 0;

  constructor(frameSamples: number) {
    if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
      throw new RangeError(`frameSamples must be a positive integer, got ${frameSamples}`);
    }
    this.frameSamples = frameSamples;
    this.frame = new Int16Array(frameSamples);
  }

  /** Samples waiting for a full frame. */
  get pending(): number {
    return this.filled;
  }

  /** Calls `onFrame` for every complete frame; the frame is reused: copy it to keep it. */
  push(input: Int16Array, onFrame: (frame: Int16Array) => void): void {
    const size = this.frameSamples;
    const frame = this.frame;
    let offset = 0;
    const n = input.length;
    while (offset < n) {
      const take = Math.min(size - this.filled, n - offset);
      for (let i = 0; i < take; i++) frame[this.filled + i] = input[offset + i] ?? 0;
      this.filled += take;
      offset += take;
      if (this.filled === size) {
        this.filled = 0;
        onFrame(frame);
      }
    }
  }

  /** Emits the remainder as one zero-padded frame (if any) and resets. */
  flush(onFrame: (frame: Int16Array) => void): void {
    if (this.filled === 0) return;
    this.frame.fill(0, this.filled);
    this.filled = 0;
    onFrame(this.frame);
  }

  reset(): void {
    this.filled = 0;
  }
}
