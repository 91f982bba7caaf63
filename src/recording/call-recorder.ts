import { mkdir, open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { wavHeader } from '../audio/wav.js';
import type { Clock } from '../shared/clock.js';

/**
 * One call's recording, built while the call runs. Two tracks (caller, assistant) are placed at
 * their wall-clock positions on one timeline that starts when the call connects (`begin`), and
 * written as they age out of memory (blocks of one second, kept for `holdMs`) to a mono mix and,
 * on request, a stereo file (left: caller, right: assistant). `finish(endAt)` cuts or pads the
 * timeline to the call's end, so the file lasts exactly as long as the call.
 *
 * Caller frames arrive over the network in bursts: each one continues the previous frame, unless
 * the caller fell behind the clock (a gap, a stall), then it is placed where it ends now.
 * Assistant frames start playing when sent (the pacer sends them in real time); `clear` drops
 * whatever was sent but lies ahead of now.
 */
export interface RecorderFiles {
  mono: string;
  stereo?: string;
}

const HOLD_MS = 5_000;
/** Audio further ahead of the clock than this is dropped (a client sending faster than real time). */
const MAX_AHEAD_MS = 5_000;

type Track = 'user' | 'assistant';

export class CallRecorder {
  private sampleRate = 0;
  private origin = 0;
  private blockLen = 0;
  private readonly blocks = new Map<number, { user: Int16Array; assistant: Int16Array }>();
  private flushed = 0;
  private cursor = { user: 0, assistant: 0 };
  private finished = false;
  private readonly mono: WavFileWriter;
  private readonly stereo: WavFileWriter | undefined;

  constructor(
    private readonly clock: Clock,
    readonly files: RecorderFiles,
  ) {
    this.mono = new WavFileWriter(files.mono, 1);
    this.stereo = files.stereo ? new WavFileWriter(files.stereo, 2) : undefined;
  }

  /** The call connected (the client's hello): the timeline starts now. */
  begin(sampleRate: number): void {
    if (this.sampleRate || this.finished) return;
    this.sampleRate = sampleRate;
    this.origin = this.clock.now();
    this.blockLen = sampleRate;
    this.mono.open(sampleRate);
    this.stereo?.open(sampleRate);
  }

  get started(): boolean {
    return this.sampleRate > 0;
  }

  /** When the timeline started (epoch ms), or undefined before `begin`. */
  get startedAt(): number | undefined {
    return this.started ? this.origin : undefined;
  }

  private get ahead(): number {
    return Math.round((MAX_AHEAD_MS * this.sampleRate) / 1000);
  }

  private position(at = this.clock.now()): number {
    return Math.round(((at - this.origin) * this.sampleRate) / 1000);
  }

  user(frame: Int16Array): void {
    if (!this.started || this.finished) return;
    const now = this.position();
    const at = Math.max(this.cursor.user, now - frame.length);
    if (at > now + this.ahead) return;
    this.put('user', at, frame);
    this.cursor.user = at + frame.length;
    this.flushBefore(now - Math.round((HOLD_MS * this.sampleRate) / 1000));
  }

  assistant(frame: Int16Array): void {
    if (!this.started || this.finished) return;
    const now = this.position();
    const at = Math.max(this.cursor.assistant, now);
    if (at > now + this.ahead) return;
    this.put('assistant', at, frame);
    this.cursor.assistant = at + frame.length;
    this.flushBefore(now - Math.round((HOLD_MS * this.sampleRate) / 1000));
  }

  /** Playback stopped now: assistant audio sent for later is never heard. */
  clear(): void {
    if (!this.started || this.finished) return;
    const now = Math.max(0, this.position());
    if (this.cursor.assistant <= now) return;
    this.put('assistant', now, new Int16Array(this.cursor.assistant - now));
    this.cursor.assistant = now;
  }

  /**
   * Ends the timeline at `endAt` (epoch ms; default now) and closes the files. Resolves with the
   * duration in ms, or undefined when the call never connected (the files are removed).
   */
  async finish(endAt = this.clock.now()): Promise<number | undefined> {
    if (this.finished) throw new Error('recording already finished');
    this.finished = true;
    if (!this.started) {
      await this.discard();
      return undefined;
    }
    const end = Math.max(0, this.position(endAt));
    this.flushBefore(end, end);
    this.blocks.clear();
    await Promise.all([this.mono.close(), this.stereo?.close()]);
    return (end * 1000) / this.sampleRate;
  }

  /** Drops the recording (the call was not recorded after all, or failed). */
  async discard(): Promise<void> {
    this.finished = true;
    this.blocks.clear();
    await Promise.all([this.mono.abort(), this.stereo?.abort()]);
  }

  private block(index: number) {
    let block = this.blocks.get(index);
    if (!block) {
      block = { user: new Int16Array(this.blockLen), assistant: new Int16Array(this.blockLen) };
      this.blocks.set(index, block);
    }
    return block;
  }

  private put(track: Track, at: number, samples: Int16Array): void {
    let offset = 0;
    let pos = at;
    if (pos < 0) {
      offset = -pos;
      pos = 0;
    }
    while (offset < samples.length) {
      const index = Math.floor(pos / this.blockLen);
      const inBlock = pos - index * this.blockLen;
      const n = Math.min(samples.length - offset, this.blockLen - inBlock);
      // Audio for a part already written out is late beyond repair: dropped.
      if (index >= this.flushed) this.block(index)[track].set(samples.subarray(offset, offset + n), inBlock);
      offset += n;
      pos += n;
    }
  }

  /** Writes out every block that ends at or before `pos`; with `end`, also the part of the last one. */
  private flushBefore(pos: number, end?: number): void {
    while ((this.flushed + 1) * this.blockLen <= pos) {
      this.emit(this.flushed, this.blockLen);
      this.flushed++;
    }
    if (end !== undefined) {
      const rest = end - this.flushed * this.blockLen;
      if (rest > 0) this.emit(this.flushed, rest);
      this.flushed++;
    }
  }

  private emit(index: number, length: number): void {
    const block = this.blocks.get(index);
    this.blocks.delete(index);
    const mono = new Int16Array(length);
    const stereo = this.stereo ? new Int16Array(length * 2) : undefined;
    if (block) {
      for (let i = 0; i < length; i++) {
        const u = block.user[i] ?? 0;
        const a = block.assistant[i] ?? 0;
        const sum = u + a;
        mono[i] = Math.max(-32768, Math.min(32767, sum));
        if (stereo) {
          stereo[2 * i] = u;
          stereo[2 * i + 1] = a;
        }
      }
    }
    this.mono.write(mono);
    if (stereo) this.stereo?.write(stereo);
  }
}

/** A 16-bit PCM WAV file written in order, its header completed on close. */
class WavFileWriter {
  private chain: Promise<unknown> = Promise.resolve();
  private handle: import('node:fs/promises').FileHandle | undefined;
  private bytes = 0;
  private sampleRate = 0;
  private error: unknown;

  constructor(
    readonly path: string,
    readonly channels: number,
  ) {}

  open(sampleRate: number): void {
    this.sampleRate = sampleRate;
    this.enqueue(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      this.handle = await open(this.path, 'w');
      // The real format from the start (length 0 until close): a file left by a crash can be
      // salvaged (see partial-salvage.ts).
      await this.handle.write(wavHeader(0, this.sampleRate, this.channels), 0, 44, 0);
    });
  }

  write(samples: Int16Array): void {
    const buf = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    const at = 44 + this.bytes;
    this.bytes += buf.length;
    this.enqueue(async () => {
      await this.handle?.write(buf, 0, buf.length, at);
    });
  }

  async close(): Promise<void> {
    this.enqueue(async () => {
      if (!this.handle) return;
      await this.handle.write(wavHeader(this.bytes, this.sampleRate, this.channels), 0, 44, 0);
      await this.handle.close();
      this.handle = undefined;
    });
    await this.chain;
    if (this.error) throw this.error;
  }

  async abort(): Promise<void> {
    this.enqueue(async () => {
      await this.handle?.close();
      this.handle = undefined;
    });
    await this.chain;
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    await rm(this.path, { force: true });
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.error) return;
      try {
        await step();
      } catch (error) {
        this.error = error;
        await this.handle?.close().catch(() => {});
        this.handle = undefined;
      }
    });
  }
}
