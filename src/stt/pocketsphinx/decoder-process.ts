/**
 * One warm `pocketsphinx_continuous` process, behind a real pipe (`cat`, see `PipedProcess`:
 * `-infile /dev/stdin` cannot open the socket Node would give it).
 *
 * The CLI reads 2048-sample blocks with fread and ends an utterance when its own VAD has seen
 * `-vad_postspeech` frames of silence; word times (`-time yes`) count 10 ms frames from the
 * process start, so the owner maps them back to stream offsets with `DecoderProcess.toUserMs`.
 */
import { PipedProcess, TERMINATED_EXIT_CODE } from '../../audio/subprocess.js';
import { ProviderError } from '../../shared/provider-error.js';
import { type DecodedUtterance, PocketsphinxOutputParser } from './output-parser.js';

export const DECODER_SAMPLE_RATE = 16000;
/** The CLI's fread block: audio reaches the decoder in blocks of this many samples. */
export const DECODER_BLOCK_SAMPLES = 2048;
const STDERR_TAIL_BYTES = 2048;

export interface DecoderSpawnOptions {
  binary: string;
  args: readonly string[];
  key: string;
  provider: string;
  onUtterance(decoder: DecoderProcess, utterance: DecodedUtterance): void;
  /** Called once, when the process is gone; `error` when that was not requested. */
  onExit(decoder: DecoderProcess, error: ProviderError | undefined): void;
}

/** A stretch of decoder input starting at `procSample` that came from stream offset `userMs`. */
interface Segment {
  procSample: number;
  userMs: number;
  /** Synthetic silence (flush padding): all of it maps to `userMs`. */
  padding: boolean;
}

export class DecoderProcess {
  readonly key: string;
  readonly process: PipedProcess;
  /** Samples (16 kHz) written to the decoder so far. */
  procSamples = 0;
  /** Resolves once the process has exited and been reaped. */
  readonly exited: Promise<void>;
  private segments: Segment[] = [];
  private stopping = false;
  private gone = false;
  private stderrTail = '';

  constructor(o: DecoderSpawnOptions) {
    this.key = o.key;
    this.process = new PipedProcess(o.binary, o.args, { pipeStdin: true });
    const child = this.process.child;
    const parser = new PocketsphinxOutputParser((u) => o.onUtterance(this, u));
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => parser.push(chunk));
    child.stdout?.on('end', () => parser.end());
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    this.exited = this.process.exited.then(({ code, signal, error: spawnError }) => {
      this.gone = true;
      let error: ProviderError | undefined;
      const clean = code === 0 || code === TERMINATED_EXIT_CODE || signal !== null;
      if (!this.stopping || !clean) {
        const detail = spawnError?.message ?? this.lastErrorLine();
        error = new ProviderError({
          type: 'stt_error',
          code: 'decoder_exited',
          message: `pocketsphinx (${this.key}) exited unexpectedly (${signal ?? `code ${code}`})${detail ? `: ${detail}` : ''}`,
          provider: o.provider,
          retryable: true,
          cause: spawnError,
        });
      }
      o.onExit(this, error);
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get isGone(): boolean {
    return this.gone;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Writes 16 kHz PCM (the buffer is handed over: do not reuse it). */
  write(pcm: Buffer, userMs: number, padding = false): void {
    if (this.stopping || this.gone || pcm.length === 0) return;
    const last = this.segments[this.segments.length - 1];
    if (!last || last.padding !== padding || padding || !this.contiguous(last, userMs)) {
      this.segments.push({ procSample: this.procSamples, userMs, padding });
    }
    this.procSamples += pcm.length >> 1;
    this.process.child.stdin?.write(pcm);
  }

  private contiguous(last: Segment, userMs: number): boolean {
    const expected = last.userMs + ((this.procSamples - last.procSample) * 1000) / DECODER_SAMPLE_RATE;
    return Math.abs(expected - userMs) < 0.5;
  }

  /** Whether a decoder time falls in synthetic flush padding (no caller audio there). */
  inPadding(sec: number): boolean {
    const sample = sec * DECODER_SAMPLE_RATE;
    let seg: Segment | undefined;
    for (const s of this.segments) {
      if (s.procSample > sample) break;
      seg = s;
    }
    return seg?.padding === true;
  }

  /** Maps a decoder time (seconds since it started) to a stream offset (ms). */
  toUserMs(sec: number): number {
    const sample = sec * DECODER_SAMPLE_RATE;
    let seg: Segment | undefined;
    let index = 0;
    for (let i = 0; i < this.segments.length; i++) {
      const s = this.segments[i];
      if (!s || s.procSample > sample) break;
      seg = s;
      index = i;
    }
    if (!seg) return this.segments[0]?.userMs ?? 0;
    // Results arrive in order: segments before the one used will not be needed again.
    if (index > 1) this.segments.splice(0, index - 1);
    if (seg.padding) return seg.userMs;
    return seg.userMs + ((sample - seg.procSample) * 1000) / DECODER_SAMPLE_RATE;
  }

  /** Graceful stop: end of input, the decoder prints what it has and exits. */
  end(graceMs = 2000): void {
    if (this.gone) return;
    this.stopping = true;
    this.process.endInput(graceMs);
  }

  /** Immediate stop of the decoder and its pipe. */
  kill(): void {
    if (this.gone) return;
    this.stopping = true;
    this.process.terminate();
  }

  private lastErrorLine(): string {
    const lines = this.stderrTail
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    const errors = lines.filter((l) => /^(ERROR|FATAL|FATAL_ERROR)|not found|error/i.test(l));
    return (errors[errors.length - 1] ?? lines[lines.length - 1] ?? '').slice(0, 300);
  }
}
