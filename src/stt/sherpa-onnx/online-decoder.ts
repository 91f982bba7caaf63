/**
 * Streaming models: one sherpa online stream, driven by a loop that makes one native call per
 * event-loop turn (`setImmediate`): decode a ready chunk (then report a partial, or a final at
 * the model's endpoint), else end a flushed segment, else feed the next queued input. `accept`
 * and `flush` only queue, so pushing never calls into sherpa, and other work (the call
 * engine's pacing) runs between decode steps.
 *
 * A flush feeds silence (`paddingSamples`) so the model decodes the end of the utterance, then
 * ends the segment where the flush was. Sherpa's own clock (`start_time`) counts that padding
 * and is where decoding is, not where pushing is (decoding may lag); segment bounds are mapped
 * back to the caller's clock by taking the padding out.
 */
import { ProviderError } from '../../shared/provider-error.js';
import type {
  SherpaOnlineRecognizer,
  SherpaOnlineStream,
  SherpaRecognizerResult,
} from '../../shared/sherpa-onnx/native.js';
import type { DecoderSink, SttDecoder } from './decoder.js';
import { MODEL_RATE } from './decoder.js';

export class OnlineDecoder implements SttDecoder {
  private readonly stream: SherpaOnlineStream;
  /** Audio and flushes not yet given to sherpa. */
  private input: (Float32Array | 'flush')[] = [];
  /** Samples of caller audio given to sherpa (the caller's clock). */
  private accepted = 0;
  /** Samples given to sherpa, padding included (sherpa's clock). */
  private fed = 0;
  /** Flush padding given to sherpa: where (on its clock) and how long. */
  private paddings: { at: number; length: number }[] = [];
  /** Padding wholly before the last mapped position (dropped from `paddings`). */
  private paddingBefore = 0;
  /** A flush was fed at this caller position: end the segment once all before it is decoded. */
  private flushFedAt: number | undefined;
  private lastPartial = '';
  private running = false;
  private stopped = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly recognizer: SherpaOnlineRecognizer,
    private readonly sink: DecoderSink,
    private readonly paddingSamples: number,
    private readonly provider: string,
  ) {
    this.stream = recognizer.createStream();
  }

  accept(samples: Float32Array): void {
    this.input.push(samples);
    this.run();
  }

  flush(): void {
    this.input.push('flush');
    this.run();
  }

  finish(): Promise<void> {
    this.flush();
    if (!this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const previous = this.idle;
      this.idle = () => {
        previous?.();
        resolve();
      };
    });
  }

  stop(): void {
    this.stopped = true;
    this.input = [];
  }

  private run(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    setImmediate(() => this.step());
  }

  private done(): void {
    this.running = false;
    const idle = this.idle;
    this.idle = undefined;
    idle?.();
  }

  private step(): void {
    if (this.stopped || !this.sink.open) {
      this.done();
      return;
    }
    const { recognizer, stream } = this;
    try {
      if (recognizer.isReady(stream)) {
        recognizer.decode(stream);
        const result = recognizer.getResult(stream);
        const text = result.text.trim();
        if (recognizer.isEndpoint(stream)) {
          this.endSegment(result);
        } else if (text && text !== this.lastPartial) {
          this.lastPartial = text;
          this.sink.partial(text);
        }
      } else if (this.flushFedAt !== undefined) {
        const at = this.flushFedAt;
        this.flushFedAt = undefined;
        this.endSegment(recognizer.getResult(stream), at);
      } else {
        const next = this.input.shift();
        if (next === undefined) {
          this.done();
          return;
        }
        if (next === 'flush') {
          stream.acceptWaveform({ samples: new Float32Array(this.paddingSamples), sampleRate: MODEL_RATE });
          this.paddings.push({ at: this.fed, length: this.paddingSamples });
          this.fed += this.paddingSamples;
          this.flushFedAt = this.accepted;
        } else {
          stream.acceptWaveform({ samples: next, sampleRate: MODEL_RATE });
          this.accepted += next.length;
          this.fed += next.length;
        }
      }
    } catch (error) {
      this.sink.fail(
        new ProviderError({
          type: 'stt_error',
          code: 'decode_failed',
          message: `sherpa-onnx: ${error instanceof Error ? error.message : String(error)}`,
          provider: this.provider,
          retryable: false,
          cause: error,
        }),
      );
      this.done();
      return;
    }
    setImmediate(() => this.step());
  }

  /** Ends the segment: at a flush, where the flush was; at an endpoint, where sherpa goes on. */
  private endSegment(result: SherpaRecognizerResult, flushedAt?: number): void {
    this.recognizer.reset(this.stream);
    const start = this.callerSamples(result.start_time ?? 0);
    const end =
      flushedAt ??
      this.callerSamples(this.recognizer.getResult(this.stream).start_time ?? this.fed / MODEL_RATE);
    this.lastPartial = '';
    // Token times count from an origin that padding and resets move: not used.
    this.sink.final(result, start, Math.max(start, end), false);
  }

  /** A time on sherpa's clock (s) as a position in the caller's audio (samples). */
  private callerSamples(seconds: number): number {
    const at = Math.round(seconds * MODEL_RATE);
    // Segment times only grow: padding wholly before `at` is counted once and dropped.
    for (let p = this.paddings[0]; p && p.at + p.length <= at; p = this.paddings[0]) {
      this.paddingBefore += p.length;
      this.paddings.shift();
    }
    let padding = this.paddingBefore;
    for (const p of this.paddings) {
      if (p.at >= at) break;
      padding += Math.min(p.length, at - p.at);
    }
    return Math.min(this.accepted, Math.max(0, at - padding));
  }
}
