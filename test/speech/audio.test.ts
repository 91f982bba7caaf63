import { describe, expect, it } from 'vitest';
import { FrameChunker } from '../../src/audio/frame-chunker.js';
import {
  alawDecodeInto,
  alawEncodeInto,
  mulawDecodeInto,
  mulawEncode,
  mulawEncodeInto,
} from '../../src/audio/g711.js';
import { LinearResampler, resample } from '../../src/audio/resampler.js';
import {
  decodeWav,
  encodeWav,
  tryParseWavHeader,
  WavFormatError,
  WavStreamReader,
} from '../../src/audio/wav.js';

function tone(freq: number, rate: number, samples: number, amplitude = 10000): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

function rms(x: Int16Array, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (x[i] ?? 0) ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

describe('LinearResampler', () => {
  it('doubles 8 kHz to 16 kHz, interpolating between samples', () => {
    const out = resample(Int16Array.from([0, 100, 200, -200]), 8000, 16000);
    expect(Array.from(out)).toEqual([0, 50, 100, 150, 200, 0, -200]);
  });

  it('produces the expected lengths for 22050/11025 -> 16000/8000', () => {
    for (const [from, to] of [
      [22050, 16000],
      [22050, 8000],
      [11025, 16000],
      [11025, 8000],
      [16000, 8000],
      [8000, 16000],
    ] as const) {
      const out = resample(new Int16Array(from), from, to);
      expect(Math.abs(out.length - to)).toBeLessThanOrEqual(1);
    }
  });

  it('gives identical output whether the input comes in one chunk or many', () => {
    const input = tone(440, 22050, 22050);
    const whole = resample(input, 22050, 8000);
    const r = new LinearResampler(22050, 8000);
    const parts: number[] = [];
    for (let i = 0; i < input.length; ) {
      const size = 1 + ((i * 7919) % 613);
      parts.push(...r.process(input.subarray(i, i + size)));
      i += size;
    }
    expect(parts.length).toBe(whole.length);
    expect(Int16Array.from(parts)).toEqual(whole);
  });

  it('keeps a 1 kHz tone and removes a 6 kHz one when going 16 kHz -> 8 kHz', () => {
    const pass = resample(tone(1000, 16000, 16000), 16000, 8000);
    const stop = resample(tone(6000, 16000, 16000), 16000, 8000);
    const ref = rms(tone(1000, 8000, 8000));
    expect(rms(pass, 100, 7900) / ref).toBeGreaterThan(0.95);
    expect(rms(pass, 100, 7900) / ref).toBeLessThan(1.05);
    expect(rms(stop, 100, 7900) / ref).toBeLessThan(0.05);
  });

  it('clamps instead of wrapping and rejects bad rates', () => {
    const out = resample(Int16Array.from([32767, 32767, -32768, -32768]), 8000, 16000);
    expect(Math.max(...out)).toBeLessThanOrEqual(32767);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(-32768);
    expect(() => new LinearResampler(0, 8000)).toThrow(RangeError);
    expect(() => new LinearResampler(8000.5, 16000)).toThrow(RangeError);
  });

  it('reuses its output buffer for same-size chunks', () => {
    const r = new LinearResampler(8000, 16000);
    const frame = new Int16Array(160);
    r.processToBuffer(frame);
    const buffer = r.buffer;
    for (let i = 0; i < 100; i++) expect(r.processToBuffer(frame)).toBe(320);
    expect(r.buffer).toBe(buffer);
  });
});

describe('WAV', () => {
  it('round-trips encode/decode', () => {
    const samples = tone(440, 16000, 1234);
    const wav = encodeWav(samples, 16000);
    expect(wav.length).toBe(44 + 2468);
    const decoded = decodeWav(wav);
    expect(decoded).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: 16 });
    expect(decoded.samples).toEqual(samples);
  });

  it('skips unknown chunks (LIST) and handles odd-sized ones', () => {
    const samples = Int16Array.from([1, -2, 3]);
    const plain = encodeWav(samples, 8000);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from([7, 7, 7, 0])]);
    const wav = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
    wav.writeUInt32LE(wav.length - 8, 4);
    expect(decodeWav(wav).samples).toEqual(samples);
  });

  it('rejects malformed headers with a clear error', () => {
    const good = encodeWav(new Int16Array(10), 16000);
    const broken = (mutate: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      mutate(b);
      return b;
    };
    expect(() => decodeWav(broken((b) => b.write('RIFX', 0, 'latin1')))).toThrow(
      /invalid WAV: missing RIFF signature/,
    );
    expect(() => decodeWav(broken((b) => b.write('AVI ', 8, 'latin1')))).toThrow(/form type is 'AVI '/);
    expect(() => decodeWav(broken((b) => b.writeUInt16LE(3, 20)))).toThrow(/audio format 3 is not PCM/);
    expect(() => decodeWav(broken((b) => b.writeUInt16LE(8, 34)))).toThrow(/8 bits per sample/);
    expect(() => decodeWav(broken((b) => b.writeUInt32LE(12345, 28)))).toThrow(/byte rate/);
    expect(() => decodeWav(broken((b) => b.writeUInt32LE(8, 16)))).toThrow(/'fmt ' chunk is 8 bytes/);
    expect(() => decodeWav(good.subarray(0, 30))).toThrow(/header incomplete/);
    expect(() => decodeWav(Buffer.from('not a wav file at all, really not'))).toThrow(WavFormatError);
    // Truncated data: rejected, unless explicitly allowed (captured pipe output).
    const truncated = good.subarray(0, 50);
    expect(() => decodeWav(truncated)).toThrow(/declares 20 bytes but only 6 present/);
    expect(decodeWav(truncated, { allowTruncated: true }).samples.length).toBe(3);
    // 'data' before 'fmt '.
    const swapped = Buffer.concat([good.subarray(0, 12), Buffer.from('data'), Buffer.alloc(4)]);
    expect(() => tryParseWavHeader(swapped)).toThrow(/'data' chunk before 'fmt '/);
  });

  it('streams: header and samples split at arbitrary (odd) byte boundaries', () => {
    const samples = tone(300, 22050, 5000);
    const wav = encodeWav(samples, 22050);
    // Placeholder size as espeak-ng writes to a pipe.
    wav.writeUInt32LE(0x7ffff000, 40);
    const reader = new WavStreamReader();
    const got: number[] = [];
    for (let i = 0, step = 1; i < wav.length; i += step, step = (step * 3 + 1) % 97) {
      got.push(...reader.push(wav.subarray(i, i + step)));
    }
    expect(reader.header?.sampleRate).toBe(22050);
    expect(Int16Array.from(got)).toEqual(samples);
    expect(reader.done).toBe(false);
  });

  it('streams: stops at the declared data size and rejects a bad stream header', () => {
    const wav = Buffer.concat([encodeWav(Int16Array.from([5, 6]), 16000), Buffer.from([1, 2, 3, 4])]);
    const reader = new WavStreamReader();
    expect(Array.from(reader.push(wav))).toEqual([5, 6]);
    expect(reader.done).toBe(true);
    expect(() => new WavStreamReader().push(Buffer.from('RIFF\0\0\0\0WAVX'))).toThrow(/not 'WAVE'/);
    expect(() => new WavStreamReader().push(encodeWav(new Int16Array(4), 16000, 2))).toThrow(/2 channels/);
  });
});

describe('FrameChunker', () => {
  it('cuts any chunking into the same fixed frames, in one reused buffer', () => {
    const input = Int16Array.from({ length: 1000 }, (_, i) => i);
    const chunker = new FrameChunker(160);
    const seen: number[][] = [];
    const buffers = new Set<Int16Array>();
    const onFrame = (f: Int16Array) => {
      buffers.add(f);
      seen.push(Array.from(f));
    };
    let offset = 0;
    for (const size of [1, 159, 161, 320, 7, 352]) {
      chunker.push(input.subarray(offset, offset + size), onFrame);
      offset += size;
    }
    expect(offset).toBe(1000);
    expect(seen.length).toBe(6);
    expect(chunker.pending).toBe(40);
    seen.forEach((f, i) => {
      expect(f[0]).toBe(i * 160);
      expect(f[159]).toBe(i * 160 + 159);
    });
    expect(buffers.size).toBe(1);
    chunker.flush(onFrame);
    expect(seen.length).toBe(7);
    expect(seen[6]?.slice(0, 40)).toEqual(Array.from(input.subarray(960)));
    expect(seen[6]?.slice(40).every((v) => v === 0)).toBe(true);
    expect(chunker.pending).toBe(0);
  });
});

describe('G.711', () => {
  it('µ-law and A-law round-trip within companding error', () => {
    const pcm = tone(440, 8000, 800, 20000);
    const bytes = new Uint8Array(800);
    const back = new Int16Array(800);
    mulawEncodeInto(pcm, bytes);
    expect(bytes).toEqual(mulawEncode(pcm));
    mulawDecodeInto(bytes, back);
    for (let i = 0; i < pcm.length; i++) {
      expect(Math.abs((back[i] ?? 0) - (pcm[i] ?? 0))).toBeLessThanOrEqual(Math.abs(pcm[i] ?? 0) * 0.04 + 8);
    }
    alawEncodeInto(pcm, bytes);
    alawDecodeInto(bytes, back);
    for (let i = 0; i < pcm.length; i++) {
      expect(Math.abs((back[i] ?? 0) - (pcm[i] ?? 0))).toBeLessThanOrEqual(Math.abs(pcm[i] ?? 0) * 0.04 + 16);
    }
  });

  it('encodes silence as 0xFF (µ-law) and refuses a short output buffer', () => {
    const bytes = new Uint8Array(4);
    mulawEncodeInto(new Int16Array(4), bytes);
    expect(Array.from(bytes)).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(() => mulawEncodeInto(new Int16Array(5), bytes)).toThrow(RangeError);
  });
});
