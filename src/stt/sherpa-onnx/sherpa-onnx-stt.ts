/**
 * Local speech-to-text with sherpa-onnx (`sherpa-onnx-node`, onnxruntime on the CPU) and
 * operator-supplied models: `SttOptions.model` names a directory under `modelsDir` (layouts in
 * `model-layout.ts`).
 *
 * Each model is loaded once per process and shared; every stream gets its own recogniser
 * stream. Streaming (online) models decode as audio arrives, one chunk per event-loop turn, and
 * emit partials; finals come on the model's endpoint or on `flush()`. Non-streaming (offline)
 * models buffer the utterance and decode it on `flush()` in sherpa's worker thread
 * (`decodeAsync`), so the event loop never waits for a decode. Audio goes in at the call's rate
 * (8 or 16 kHz); sherpa resamples to the model's feature rate itself.
 */
import { LinearResampler } from '../../audio/resampler.js';
import { ProviderError } from '../../providers/provider-error.js';
import { EventQueue } from '../event-queue.js';
import type { SttEvent, SttOptions, SttProvider, SttStream } from '../stt.js';
import { assertModelDir, type ModelErrorContext, resolveModelDir } from './model-dir.js';
import { detectSttModel, type SttModelLayout } from './model-layout.js';
import {
  loadSherpaOnnx,
  type SherpaOfflineRecognizer,
  type SherpaOnlineRecognizer,
  type SherpaOnlineStream,
  type SherpaRecognizerResult,
} from './native.js';

const PROVIDER = 'sherpa-onnx';
const CTX: ModelErrorContext = { type: 'stt_error', provider: PROVIDER };

export interface SherpaOnnxSttOptions {
  /** Directory holding one sub-directory per model. */
  modelsDir: string;
  /** onnxruntime threads per model. */
  numThreads?: number;
  /** Model used when a stream names none. */
  defaultModel?: string;
  /** An offline model decodes at most this much audio at once (longer speech is cut). */
  maxUtteranceMs?: number;
  /** Silence appended on `flush()` so a streaming model decodes the end of the utterance. */
  flushPaddingMs?: number;
}

export const defaultSherpaOnnxSttOptions = {
  numThreads: 1,
  maxUtteranceMs: 30_000,
  flushPaddingMs: 600,
} as const satisfies Partial<SherpaOnnxSttOptions>;

/** A loaded model: exactly one of the recognisers is set. */
export interface LoadedSttModel {
  layout: SttModelLayout;
  offline?: SherpaOfflineRecognizer;
  online?: SherpaOnlineRecognizer;
  /** Time the load took (ms). */
  loadMs: number;
}

/** Process-wide: each model directory (per thread count) is loaded once. */
const modelCache = new Map<string, Promise<LoadedSttModel>>();

/** Rate the recognisers are fed at (every supported model's feature rate). */
const MODEL_RATE = 16000;
const FEATURES = { sampleRate: MODEL_RATE, featureDim: 80 };

async function loadModel(dir: string, name: string, numThreads: number): Promise<LoadedSttModel> {
  await assertModelDir(dir, name, CTX);
  const layout = await detectSttModel(dir, name, CTX);
  const sherpa = loadSherpaOnnx();
  const modelConfig = { ...layout.modelConfig, numThreads, provider: 'cpu', debug: 0 };
  const started = performance.now();
  try {
    if (layout.streaming) {
      // The online recogniser has no async constructor: this blocks once per model and process.
      const online = new sherpa.OnlineRecognizer({
        featConfig: FEATURES,
        modelConfig,
        decodingMethod: 'greedy_search',
        enableEndpoint: 1,
        rule1MinTrailingSilence: 2.4,
        rule2MinTrailingSilence: 0.8,
        rule3MinUtteranceLength: 20,
      });
      return { layout, online, loadMs: performance.now() - started };
    }
    const offline = await sherpa.OfflineRecognizer.createAsync({
      featConfig: FEATURES,
      modelConfig,
      decodingMethod: 'greedy_search',
    });
    return { layout, offline, loadMs: performance.now() - started };
  } catch (error) {
    throw new ProviderError({
      type: 'stt_error',
      code: 'model_load_failed',
      message: `sherpa-onnx could not load model '${name}': ${error instanceof Error ? error.message : String(error)}`,
      provider: PROVIDER,
      retryable: false,
      cause: error,
    });
  }
}

export function createSherpaOnnxStt(options: SherpaOnnxSttOptions): SherpaOnnxStt {
  return new SherpaOnnxStt(options);
}

export class SherpaOnnxStt implements SttProvider {
  readonly name = PROVIDER;
  readonly options: Required<Omit<SherpaOnnxSttOptions, 'defaultModel'>> & { defaultModel?: string };

  constructor(options: SherpaOnnxSttOptions) {
    this.options = { ...defaultSherpaOnnxSttOptions, ...options };
  }

  stream(options: SttOptions, signal: AbortSignal): SttStream {
    return new SherpaOnnxSttStream(this, options, signal);
  }

  /** Loads (or returns the cached) model; rejects with a ProviderError. */
  load(model: string | undefined): Promise<LoadedSttModel> {
    const dir = resolveModelDir(this.options.modelsDir, model ?? this.options.defaultModel, CTX);
    const key = `${dir}\0${this.options.numThreads}`;
    let loading = modelCache.get(key);
    if (!loading) {
      loading = loadModel(dir, model ?? this.options.defaultModel ?? '', this.options.numThreads);
      modelCache.set(key, loading);
      // A failed load is not cached: the operator may fix the files and retry.
      loading.catch(() => modelCache.delete(key));
    }
    return loading;
  }
}

function toFloat(frame: Int16Array, count = frame.length): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (frame[i] ?? 0) / 32768;
  return out;
}

function concat(chunks: readonly Float32Array[], total: number): Float32Array {
  const out = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** exp(mean token log-probability), when the model reports them. */
function confidenceOf(result: SherpaRecognizerResult): number | undefined {
  const lp = result.ys_log_probs;
  if (!lp || lp.length === 0) return undefined;
  const mean = lp.reduce((a, b) => a + b, 0) / lp.length;
  return Math.round(Math.min(1, Math.max(0, Math.exp(mean))) * 1000) / 1000;
}

function asProviderError(error: unknown, code: string): ProviderError {
  if (error instanceof ProviderError) return error;
  return new ProviderError({
    type: 'stt_error',
    code,
    message: `sherpa-onnx: ${error instanceof Error ? error.message : String(error)}`,
    provider: PROVIDER,
    retryable: false,
    cause: error,
  });
}

class SherpaOnnxSttStream implements SttStream {
  private readonly queue = new EventQueue<SttEvent>();
  private model: LoadedSttModel | undefined;
  private failed = false;
  private closed = false;
  /** Samples pushed by the caller, at MODEL_RATE. */
  private pushed = 0;
  /** Upsamples 8 kHz calls here (sherpa's own resampler logs a line per stream). */
  private readonly resampler: LinearResampler | undefined;
  /** Samples given to the recogniser, at MODEL_RATE (the stream's audio clock; no padding). */
  private accepted = 0;
  /** Audio pushed before the model finished loading. */
  private pending: Float32Array[] = [];
  private pendingFlushes: number[] = [];
  private readonly ready: Promise<void>;
  private readonly onAbort = () => this.stop();

  // Offline: the utterance being collected.
  private utterance: Float32Array[] = [];
  private utteranceSamples = 0;
  private utteranceStart = 0;
  private decoding: Promise<void> = Promise.resolve();

  // Online: one recogniser stream, decoded in steps.
  private online: SherpaOnlineStream | undefined;
  /** Flush padding given to the online stream: where (in its samples) and how long. */
  private paddings: { at: number; length: number }[] = [];
  /** Samples given to the online stream, padding included (sherpa's clock). */
  private fed = 0;
  /** Audio and flushes not yet given to the online stream (fed one step at a time). */
  private input: (Float32Array | 'flush')[] = [];
  private lastPartial = '';
  private draining = false;
  /** A flush was fed (at this caller position): end the segment once all before it is decoded. */
  private flushFedAt: number | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly provider: SherpaOnnxStt,
    private readonly options: SttOptions,
    private readonly signal: AbortSignal,
  ) {
    if (options.sampleRate !== MODEL_RATE) this.resampler = new LinearResampler(options.sampleRate, MODEL_RATE);
    if (signal.aborted) {
      this.closed = true;
      this.queue.end();
      this.ready = Promise.resolve();
      return;
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
    let loading: Promise<LoadedSttModel>;
    try {
      loading = provider.load(options.model);
    } catch (error) {
      loading = Promise.reject(error);
    }
    this.ready = loading.then(
      (model) => this.start(model),
      (error: unknown) => this.fail(asProviderError(error, 'model_load_failed')),
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<SttEvent> {
    return this.queue[Symbol.asyncIterator]();
  }

  private get rate(): number {
    return MODEL_RATE;
  }

  private ms(samples: number): number {
    return Math.round((samples * 1000) / this.rate);
  }

  push(frame: Int16Array): void {
    if (this.closed || this.failed || frame.length === 0) return;
    let samples: Float32Array;
    if (this.resampler) {
      const count = this.resampler.processToBuffer(frame);
      samples = toFloat(this.resampler.buffer, count);
    } else {
      samples = toFloat(frame);
    }
    this.pushed += samples.length;
    if (!this.model) {
      this.pending.push(samples);
      return;
    }
    this.accept(samples);
  }

  flush(): void {
    if (this.closed || this.failed) return;
    if (!this.model) {
      this.pendingFlushes.push(this.pushed);
      return;
    }
    this.flushNow();
  }

  private start(model: LoadedSttModel): void {
    if (this.closed) return;
    this.model = model;
    if (model.online) this.online = model.online.createStream();
    // Replay what arrived while loading, flushes at their positions.
    const pending = this.pending;
    const flushes = this.pendingFlushes;
    this.pending = [];
    this.pendingFlushes = [];
    let at = 0;
    for (const chunk of pending) {
      this.accept(chunk);
      at += chunk.length;
      while (flushes.length > 0 && (flushes[0] ?? 0) <= at) {
        flushes.shift();
        this.flushNow();
      }
    }
    for (const _ of flushes) this.flushNow();
  }

  private accept(samples: Float32Array): void {
    const model = this.model;
    if (!model) return;
    if (model.online) {
      this.input.push(samples);
      this.scheduleDrain();
      return;
    }
    if (this.utteranceSamples === 0) this.utteranceStart = this.accepted;
    this.accepted += samples.length;
    this.utterance.push(samples);
    this.utteranceSamples += samples.length;
    const max = (this.provider.options.maxUtteranceMs * this.rate) / 1000;
    if (this.utteranceSamples >= max) this.flushNow();
  }

  private flushNow(): void {
    const model = this.model;
    if (!model || this.failed) return;
    if (model.online) {
      this.input.push('flush');
      this.scheduleDrain();
      return;
    }
    if (this.utteranceSamples === 0 || !model.offline) return;
    const recognizer = model.offline;
    const samples = concat(this.utterance, this.utteranceSamples);
    const startSample = this.utteranceStart;
    const endSample = startSample + this.utteranceSamples;
    this.utterance = [];
    this.utteranceSamples = 0;
    // Decodes run one after another so finals keep their order.
    this.decoding = this.decoding.then(() => this.decodeOffline(recognizer, samples, startSample, endSample));
  }

  private async decodeOffline(
    recognizer: SherpaOfflineRecognizer,
    samples: Float32Array,
    startSample: number,
    endSample: number,
  ): Promise<void> {
    if (this.queue.isEnded || this.failed) return;
    let result: SherpaRecognizerResult;
    try {
      const stream = recognizer.createStream();
      stream.acceptWaveform({ samples, sampleRate: this.rate });
      result = await recognizer.decodeAsync(stream);
    } catch (error) {
      this.fail(asProviderError(error, 'decode_failed'));
      return;
    }
    this.emitFinal(result, startSample, endSample, true);
  }

  /**
   * `useTimestamps`: offline results time tokens from the start of the utterance buffer; online
   * ones count from an origin that flush padding and resets move, so they are not used.
   */
  private emitFinal(
    result: SherpaRecognizerResult,
    startSample: number,
    endSample: number,
    useTimestamps: boolean,
  ): void {
    if (this.queue.isEnded) return;
    const text = result.text.trim();
    if (!text) return;
    const endOffsetMs = this.ms(endSample);
    const firstToken = useTimestamps ? result.timestamps?.[0] : undefined;
    const startOffsetMs = Math.min(
      endOffsetMs,
      this.ms(startSample) + (firstToken === undefined ? 0 : Math.round(firstToken * 1000)),
    );
    const confidence = confidenceOf(result);
    this.queue.push({
      type: 'final',
      text,
      ...(confidence === undefined ? {} : { confidence }),
      startOffsetMs,
      endOffsetMs,
      timestampMs: Date.now(),
    });
  }

  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => this.drainStep());
  }

  /** One decode step per event-loop turn, so other work (call pacing) runs in between. */
  private drainStep(): void {
    const recognizer = this.model?.online;
    const stream = this.online;
    if (!recognizer || !stream || this.closed || this.failed) {
      this.finishDrain();
      return;
    }
    this.drainStepOnline(recognizer, stream);
  }

  /**
   * One native call per step: decode a ready chunk (then report a partial or an endpoint final),
   * else end a flushed segment, else feed the next input. Pushing never calls into sherpa.
   */
  private drainStepOnline(recognizer: SherpaOnlineRecognizer, stream: SherpaOnlineStream): void {
    try {
      if (recognizer.isReady(stream)) {
        recognizer.decode(stream);
        const result = recognizer.getResult(stream);
        const text = result.text.trim();
        if (recognizer.isEndpoint(stream)) {
          this.endSegment(recognizer, stream, result);
        } else if (text && text !== this.lastPartial) {
          this.lastPartial = text;
          this.queue.push({ type: 'partial', text });
        }
      } else if (this.flushFedAt !== undefined) {
        const at = this.flushFedAt;
        this.flushFedAt = undefined;
        this.endSegment(recognizer, stream, recognizer.getResult(stream), at);
      } else {
        const next = this.input.shift();
        if (next === undefined) {
          this.finishDrain();
          return;
        }
        if (next === 'flush') {
          const padding = new Float32Array(Math.round((this.provider.options.flushPaddingMs * this.rate) / 1000));
          stream.acceptWaveform({ samples: padding, sampleRate: this.rate });
          this.paddings.push({ at: this.fed, length: padding.length });
          this.fed += padding.length;
          this.flushFedAt = this.accepted;
        } else {
          stream.acceptWaveform({ samples: next, sampleRate: this.rate });
          this.accepted += next.length;
          this.fed += next.length;
        }
      }
    } catch (error) {
      this.fail(asProviderError(error, 'decode_failed'));
      this.finishDrain();
      return;
    }
    setImmediate(() => this.drainStep());
  }

  private finishDrain(): void {
    this.draining = false;
    const done = this.drained;
    this.drained = undefined;
    done?.();
  }

  /**
   * Ends the online segment: at a flush, where the flush was; at an endpoint, where sherpa starts
   * the next segment. Sherpa's clock (`start_time`) is where decoding is, not where pushing is
   * (decoding may lag behind); it is mapped to the caller's clock by taking out flush padding.
   */
  private endSegment(
    recognizer: SherpaOnlineRecognizer,
    stream: SherpaOnlineStream,
    result: SherpaRecognizerResult,
    flushedAt?: number,
  ): void {
    recognizer.reset(stream);
    const start = this.callerSamples(result.start_time ?? 0);
    const endAt = flushedAt ?? this.callerSamples(recognizer.getResult(stream).start_time ?? this.fed / this.rate);
    const end = Math.max(start, endAt);
    this.emitFinal(result, start, end, false);
    this.lastPartial = '';
  }

  /** A time on the online stream's clock (s) as a position in the caller's audio (samples). */
  private callerSamples(seconds: number): number {
    const at = Math.round(seconds * this.rate);
    let padding = 0;
    for (const p of this.paddings) {
      if (p.at >= at) break;
      padding += Math.min(p.length, at - p.at);
    }
    return Math.min(this.accepted, Math.max(0, at - padding));
  }

  private fail(error: ProviderError): void {
    if (this.failed || this.queue.isEnded) return;
    this.failed = true;
    this.queue.push({ type: 'error', error });
    this.queue.end();
    this.signal.removeEventListener('abort', this.onAbort);
  }

  /** Abort: drop everything, end the iteration now. */
  private stop(): void {
    this.closed = true;
    this.pending = [];
    this.input = [];
    this.utterance = [];
    this.utteranceSamples = 0;
    this.queue.end();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.signal.removeEventListener('abort', this.onAbort);
    // Finish the utterance in progress, then end.
    await this.ready;
    if (this.model && !this.failed && !this.queue.isEnded) {
      this.flushNow();
      if (this.model.online && this.draining) {
        await new Promise<void>((resolve) => {
          this.drained = resolve;
        });
      }
      await this.decoding;
    }
    this.closed = true;
    this.queue.end();
  }
}
