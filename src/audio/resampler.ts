/**
 * Streaming sample-rate conversion for mono PCM16: linear interpolation on an exact rational
 * phase (no drift over long calls), with a short windowed-sinc low-pass in front when
 * downsampling so e.g. 16 kHz TTS audio does not alias when it goes out at 8 kHz.
 *
 * Hand-written because the npm options either allocate a new array per call (wave-resampler),
 * need async WASM initialisation and Float32 I/O (libsamplerate-js) or are not streaming; this
 * one keeps its state across chunks and reuses its buffers, so it can run per frame.
 */

const FILTER_TAPS = 31;

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/** Windowed-sinc (Blackman) low-pass taps, normalised to unity gain at DC. */
function lowPassTaps(cutoff: number, taps: number): Float32Array {
  const h = new Float32Array(taps);
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const w =
      0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (taps - 1));
    h[i] = sinc * w;
    sum += sinc * w;
  }
  for (let i = 0; i < taps; i++) h[i] = (h[i] ?? 0) / sum;
  return h;
}

export interface ResamplerOptions {
  /** Low-pass before downsampling (default true). Ignored when upsampling. */
  antiAlias?: boolean;
}

export class LinearResampler {
  readonly fromRate: number;
  readonly toRate: number;
  /** Input samples advanced per output sample = step / den (exact rational). */
  private readonly step: number;
  private readonly den: number;
  private readonly taps: Float32Array | null;
  /** Position of the next output sample, in 1/den input samples, relative to the chunk start. */
  private pos = 0;
  /** The (filtered) last input sample of the previous chunk: index -1 of the current one. */
  private last = 0;
  private work = new Float32Array(0);
  private history: Float32Array;
  private out = new Int16Array(0);

  constructor(fromRate: number, toRate: number, options: ResamplerOptions = {}) {
    if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
      throw new RangeError(`sample rates must be positive integers, got ${fromRate} -> ${toRate}`);
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    this.step = fromRate / g;
    this.den = toRate / g;
    const antiAlias = options.antiAlias ?? true;
    // Cut at 90 % of the target Nyquist frequency, expressed as a fraction of the input rate.
    this.taps = antiAlias && toRate < fromRate ? lowPassTaps((0.45 * toRate) / fromRate, FILTER_TAPS) : null;
    this.history = new Float32Array(this.taps ? FILTER_TAPS - 1 : 0);
  }

  /** Output samples `process` will return at most for an input of `inputSamples`. */
  maxOutput(inputSamples: number): number {
    return Math.ceil((inputSamples * this.den) / this.step) + 2;
  }

  /**
   * Resamples one chunk. The result is a view into an internal buffer, valid until the next
   * call: copy it (`slice()`) to keep it. Allocates only when a chunk is larger than any before.
   */
  process(input: Int16Array): Int16Array {
    const count = this.processToBuffer(input);
    return this.out.subarray(0, count);
  }

  /** The buffer `processToBuffer` writes into (it may be replaced by a larger one). */
  get buffer(): Int16Array {
    return this.out;
  }

  /** Like `process` without creating a view: writes to `buffer` and returns the sample count. */
  processToBuffer(input: Int16Array): number {
    const n = input.length;
    if (this.fromRate === this.toRate) {
      if (this.out.length < n) this.out = new Int16Array(n);
      this.out.set(input);
      return n;
    }
    if (n === 0) return 0;
    const hist = this.history.length;
    if (this.work.length < n + hist) this.work = new Float32Array(n + hist);
    const work = this.work;
    // work = [filter history | this chunk]; x(k) below reads the filtered chunk from work[k].
    work.set(this.history, 0);
    for (let i = 0; i < n; i++) work[hist + i] = input[i] ?? 0;
    const taps = this.taps;
    if (taps) {
      const t = taps.length;
      for (let k = 0; k < n; k++) {
        let acc = 0;
        for (let j = 0; j < t; j++) acc += (taps[j] ?? 0) * (work[k + j] ?? 0);
        // Safe in place: later outputs only read work[k + 1 ...], never work[k].
        work[k] = acc;
      }
      // Keep the last raw samples for the next chunk: work[n .. n + hist) was not overwritten.
      for (let i = 0; i < hist; i++) this.history[i] = work[n + i] ?? 0;
    }
    const maxOut = this.maxOutput(n);
    if (this.out.length < maxOut) this.out = new Int16Array(maxOut);
    const out = this.out;
    const den = this.den;
    const limit = (n - 1) * den;
    let pos = this.pos;
    let count = 0;
    while (pos <= limit) {
      const i = Math.floor(pos / den);
      const frac = (pos - i * den) / den;
      const a = i < 0 ? this.last : (work[i] ?? 0);
      const b = work[i + 1] ?? a;
      const v = Math.round(a + (b - a) * frac);
      out[count++] = Math.min(32767, Math.max(-32768, v));
      pos += this.step;
    }
    this.pos = pos - n * den;
    this.last = work[n - 1] ?? 0;
    return count;
  }

  reset(): void {
    this.pos = 0;
    this.last = 0;
    this.history.fill(0);
  }
}

/** One-shot conversion of a whole buffer (allocates the result). */
export function resample(
  input: Int16Array,
  fromRate: number,
  toRate: number,
  options?: ResamplerOptions,
): Int16Array {
  if (fromRate === toRate) return input.slice();
  return new LinearResampler(fromRate, toRate, options).process(input).slice();
}
