/**
 * Finds keypad digits in audio (Goertzel filters at the eight DTMF frequencies, 20-ms blocks),
 * so a simulated caller can tell which in-band digits it heard.
 */
const LOW = [697, 770, 852, 941];
const HIGH = [1209, 1336, 1477, 1633];
const KEYPAD = ['123A', '456B', '789C', '*0#D'];

function power(block: Int16Array, frequency: number, sampleRate: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (const sample of block) {
    const s0 = sample + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coefficient * s1 * s2;
}

function strongest(
  block: Int16Array,
  freqs: number[],
  sampleRate: number,
): { index: number; ratio: number; power: number } {
  const powers = freqs.map((f) => power(block, f, sampleRate));
  let index = 0;
  for (let i = 1; i < powers.length; i++) if ((powers[i] ?? 0) > (powers[index] ?? 0)) index = i;
  const best = powers[index] ?? 0;
  const rest = powers.reduce((sum, p, i) => (i === index ? sum : sum + p), 0) / (powers.length - 1);
  return { index, ratio: best / (rest || 1), power: best };
}

/** The digits in `pcm` (each counted once per continuous tone). */
export function detectDtmf(pcm: Int16Array, sampleRate: number): string {
  const block = Math.round(sampleRate / 50);
  let digits = '';
  let current: string | undefined;
  for (let at = 0; at + block <= pcm.length; at += block) {
    const chunk = pcm.subarray(at, at + block);
    let energy = 0;
    for (const s of chunk) energy += s * s;
    const low = strongest(chunk, LOW, sampleRate);
    const high = strongest(chunk, HIGH, sampleRate);
    // Each tone must dominate its group and carry most of the block's energy.
    const toneEnergy = ((low.power + high.power) * 2) / block;
    const isTone = low.ratio > 10 && high.ratio > 10 && energy > 0 && toneEnergy > energy * 0.5;
    const digit = isTone ? KEYPAD[low.index]?.[high.index] : undefined;
    if (digit && digit !== current) digits += digit;
    current = digit;
  }
  return digits;
}
