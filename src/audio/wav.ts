/**
 * WAV (RIFF/WAVE) reading and writing for 16-bit PCM.
 *
 * Hand-written because TTS engines write WAV to a pipe: the header has to be parsed
 * incrementally from stdout chunks, with a placeholder data size (espeak-ng writes 0x7ffff000),
 * which file-oriented libraries (wavefile, node-wav) do not do; the strict header checks with
 * clear error messages are a few dozen lines on top of that.
 */
import { endianness } from 'node:os';

export class WavFormatError extends Error {
  constructor(message: string) {
    super(`invalid WAV: ${message}`);
    this.name = 'WavFormatError';
  }
}

export interface WavFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: 16;
}

export interface WavHeader extends WavFormat {
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Data size the header declares, in bytes (may be a placeholder for streamed output). */
  dataBytes: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** A header larger than this without a data chunk is not a WAV we want to keep buffering. */
const MAX_HEADER_BYTES = 64 * 1024;

if (endianness() !== 'LE') throw new Error('audio/wav: little-endian host required');

function fourcc(buf: Uint8Array, offset: number): string {
  return String.fromCharCode(
    buf[offset] ?? 0,
    buf[offset + 1] ?? 0,
    buf[offset + 2] ?? 0,
    buf[offset + 3] ?? 0,
  );
}

/**
 * Parses the RIFF header up to the start of the data chunk. Returns `undefined` when `buf` is a
 * valid prefix that is too short to contain the data chunk header yet; throws `WavFormatError`
 * when it can never become a supported WAV.
 */
export function tryParseWavHeader(buf: Uint8Array): WavHeader | undefined {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 12) {
    if (buf.length >= 4 && fourcc(buf, 0) !== 'RIFF') throw new WavFormatError('missing RIFF signature');
    return undefined;
  }
  if (fourcc(buf, 0) !== 'RIFF') throw new WavFormatError('missing RIFF signature');
  if (fourcc(buf, 8) !== 'WAVE')
    throw new WavFormatError(`RIFF form type is '${fourcc(buf, 8)}', not 'WAVE'`);
  let offset = 12;
  let format: WavFormat | undefined;
  while (offset + 8 <= buf.length) {
    const id = fourcc(buf, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'data') {
      if (!format) throw new WavFormatError("'data' chunk before 'fmt ' chunk");
      return { ...format, dataOffset: body, dataBytes: size };
    }
    if (body + size > MAX_HEADER_BYTES)
      throw new WavFormatError(`chunk '${id}' of ${size} bytes before 'data'`);
    if (body + size > buf.length) return undefined;
    if (id === 'fmt ') format = parseFmt(view, body, size);
    offset = body + size + (size & 1);
  }
  if (offset > MAX_HEADER_BYTES) throw new WavFormatError("no 'data' chunk");
  return undefined;
}

function parseFmt(view: DataView, at: number, size: number): WavFormat {
  if (size < 16) throw new WavFormatError(`'fmt ' chunk is ${size} bytes, expected at least 16`);
  let audioFormat = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const byteRate = view.getUint32(at + 8, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (audioFormat === WAVE_FORMAT_EXTENSIBLE && size >= 40) {
    // The sub-format GUID starts with the actual format code.
    audioFormat = view.getUint16(at + 24, true);
  }
  if (audioFormat !== WAVE_FORMAT_PCM) {
    throw new WavFormatError(`audio format ${audioFormat} is not PCM (1); only 16-bit PCM is supported`);
  }
  if (bitsPerSample !== 16)
    throw new WavFormatError(`${bitsPerSample} bits per sample; only 16 is supported`);
  if (channels < 1) throw new WavFormatError('0 channels');
  if (sampleRate < 1000 || sampleRate > 384000)
    throw new WavFormatError(`implausible sample rate ${sampleRate}`);
  if (blockAlign !== channels * 2) throw new WavFormatError(`block align ${blockAlign} != channels * 2`);
  if (byteRate !== sampleRate * blockAlign)
    throw new WavFormatError(`byte rate ${byteRate} != rate * block align`);
  return { sampleRate, channels, bitsPerSample: 16 };
}

export interface DecodedWav extends WavFormat {
  /** Interleaved samples (mono when `channels` is 1). */
  samples: Int16Array;
}

/**
 * Decodes a whole WAV file. Rejects truncated data unless `allowTruncated` (useful for output
 * captured from a pipe whose header carries a placeholder size).
 */
export function decodeWav(buf: Uint8Array, options: { allowTruncated?: boolean } = {}): DecodedWav {
  const header = tryParseWavHeader(buf);
  if (!header) throw new WavFormatError(`header incomplete (${buf.length} bytes)`);
  const available = buf.length - header.dataOffset;
  let bytes = header.dataBytes;
  if (bytes > available) {
    if (!options.allowTruncated) {
      throw new WavFormatError(
        `'data' chunk declares ${header.dataBytes} bytes but only ${available} present`,
      );
    }
    bytes = available;
  }
  bytes -= bytes % (header.channels * 2);
  const samples = new Int16Array(bytes / 2);
  new Uint8Array(samples.buffer).set(buf.subarray(header.dataOffset, header.dataOffset + bytes));
  return { sampleRate: header.sampleRate, channels: header.channels, bitsPerSample: 16, samples };
}

/** The canonical 44-byte header of a PCM16 WAV file holding `dataBytes` of samples. */
export function wavHeader(dataBytes: number, sampleRate: number, channels = 1): Buffer {
  const out = Buffer.alloc(44);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels * 2, 28);
  out.writeUInt16LE(channels * 2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(dataBytes, 40);
  return out;
}

/** Encodes mono (or interleaved) PCM16 as a canonical 44-byte-header WAV file. */
export function encodeWav(samples: Int16Array, sampleRate: number, channels = 1): Buffer {
  const dataBytes = samples.length * 2;
  return Buffer.concat([
    wavHeader(dataBytes, sampleRate, channels),
    Buffer.from(samples.buffer, samples.byteOffset, dataBytes),
  ]);
}

/**
 * Incremental WAV reader for a byte stream (a TTS engine's stdout): feed chunks with `push`,
 * get PCM16 samples back once the header is through. Mono only. Stops at the declared data
 * size, so a placeholder size simply means "until the stream ends".
 */
export class WavStreamReader {
  header: WavHeader | undefined;
  private headerBuf: Buffer = Buffer.alloc(0);
  private remaining = 0;
  /** A dangling odd byte from the previous chunk (-1 when none). */
  private oddByte = -1;
  private out = new Int16Array(0);

  /**
   * Returns the samples in `chunk` (a view into an internal buffer, valid until the next call).
   * Throws `WavFormatError` on a malformed header.
   */
  push(chunk: Uint8Array): Int16Array {
    let data: Uint8Array;
    if (!this.header) {
      this.headerBuf = Buffer.concat([this.headerBuf, chunk]);
      const header = tryParseWavHeader(this.headerBuf);
      if (!header) {
        if (this.headerBuf.length > MAX_HEADER_BYTES) throw new WavFormatError("no 'data' chunk");
        return this.out.subarray(0, 0);
      }
      if (header.channels !== 1)
        throw new WavFormatError(`${header.channels} channels; stream reader is mono only`);
      this.header = header;
      this.remaining = header.dataBytes;
      data = this.headerBuf.subarray(header.dataOffset);
      this.headerBuf = Buffer.alloc(0);
    } else {
      data = chunk;
    }
    if (data.length > this.remaining) data = data.subarray(0, this.remaining);
    this.remaining -= data.length;
    const total = data.length + (this.oddByte >= 0 ? 1 : 0);
    const count = total >> 1;
    if (this.out.length < count) this.out = new Int16Array(Math.max(count, 4096));
    const bytes = new Uint8Array(this.out.buffer, 0, count * 2);
    let src = 0;
    let dst = 0;
    if (this.oddByte >= 0 && count > 0) {
      bytes[0] = this.oddByte;
      bytes[1] = data[0] ?? 0;
      src = 1;
      dst = 2;
      this.oddByte = -1;
    }
    const whole = count * 2 - dst;
    bytes.set(data.subarray(src, src + whole), dst);
    src += whole;
    if (src < data.length) this.oddByte = data[src] ?? 0;
    return this.out.subarray(0, count);
  }

  /** True once the declared data size has been read (never, for a placeholder size). */
  get done(): boolean {
    return this.header !== undefined && this.remaining === 0;
  }
}
