/**
 * Fills the empty band above 4 kHz of narrowband (8 kHz) audio upsampled to 16 kHz with faint
 * noise. Acoustic models trained on wideband speech (pocketsphinx en-us) read an empty upper
 * band as a strong feature of its own and mis-recognise phone audio; faint noise there, as a
 * wideband microphone would pick up, brings the features back towards what the model knows
 * (measured in bench/phone-band: see the README's offline section).
 *
 * Hand-written because it is a few lines: white noise from a seeded xorshift generator,
 * low-passed by a 4-tap moving average, then shifted up by fs/2 (multiplied by (-1)^n), so its
 * energy lies between 4 and 8 kHz at a 16-kHz rate. Deterministic: the same audio gives the
 * same transcript.
 */
export class HighBandNoise {
  private state: number;
  private readonly taps = new Float64Array(4);
  private tap = 0;
  private sign = 1;

  /** `rms`: the added noise's level in PCM16 units (about 30: -61 dBFS). */
  constructor(
    private readonly rms: number,
    seed = 0x9e3779b9,
  ) {
    this.state = seed >>> 0 || 1;
  }

  /** Adds the noise to the first `count` samples of `samples` (16 kHz), in place. */
  addTo(samples: Int16Array, count = samples.length): void {
    // Uniform noise in [-1, 1) has RMS 1/√3; a 4-tap average of independent samples divides
    // it by 2: scale so the result has the requested RMS.
    const scale = this.rms * Math.sqrt(3) * 2;
    for (let i = 0; i < count; i++) {
      let x = this.state;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.state = x >>> 0;
      this.taps[this.tap] = this.state / 2147483648 - 1;
      this.tap = (this.tap + 1) & 3;
      const low = ((this.taps[0] ?? 0) + (this.taps[1] ?? 0) + (this.taps[2] ?? 0) + (this.taps[3] ?? 0)) / 4;
      this.sign = -this.sign;
      const v = (samples[i] ?? 0) + Math.round(low * scale * this.sign);
      samples[i] = Math.min(32767, Math.max(v, -32768));
    }
  }
}
