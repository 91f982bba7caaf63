/**
 * Local speech-to-text with sherpa-onnx (`sherpa-onnx-node`, onnxruntime on the CPU) and
 * operator-supplied models: `SttOptions.model` names a directory under `modelsDir` (layouts in
 * `model-layout.ts`).
 *
 * Each model is loaded once per process and shared; every stream gets its own recogniser
 * stream. Streaming (online) models decode as audio arrives, one chunk per event-loop turn, and
 * emit partials; finals come on the model's endpoint or on `flush()` (online-decoder.ts).
 * Non-streaming (offline) models buffer the utterance and decode it on `flush()` in sherpa's
 * worker thread, so the event loop never waits for a decode (offline-decoder.ts). 8 kHz calls
 * are upsampled to the models' 16 kHz feature rate here.
 */
import { LinearResampler } from '../../audio/resampler.js';
import { ProviderError } from '../../shared/provider-error.js';
import {
  assertModelDir,
  type ModelErrorContext,
  resolveModelDir,
} from '../../shared/sherpa-onnx/model-dir.js';
import {
  loadSherpaOnnx,
  type SherpaOfflineRecognizer,
  type SherpaOnlineRecognizer,
  type SherpaRecognizerResult,
} from '../../shared/sherpa-onnx/native.js';
import { EventQueue } from '../event-queue.js';
import type { SttEvent, SttOptions, SttProvider, SttStream } from '../stt.js';
import { type DecoderSink, MODEL_RATE, type SttDecoder } from './decoder.js';
import { detectSttModel, type SttModelLayout } from './model-layout.js';
import { OfflineDecoder } from './offline-decoder.js';
import { OnlineDecoder } from './online-decoder.js';

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

const ms = (samples: number) => Math.round((samples * 1000) / MODEL_RATE);

/**
 * One caller stream: converts and upsamples audio, holds it while the model loads, hands it to
 * the model's decoder (offline-decoder.ts / online-decoder.ts) and turns results into events.
 */
class SherpaOnnxSttStream implements SttStream, DecoderSink {
  private readonly queue = new EventQueue<SttEvent>();
  private decoder: SttDecoder | undefined;
  private failed = false;
  private closed = false;
  /** Upsamples 8 kHz calls (sherpa would too, logging a line per stream). */
  private readonly resampler: LinearResampler | undefined;
  /** Audio and flushes that arrived while the model was loading, in order. */
  private pending: (Float32Array | 'flush')[] = [];
  private readonly ready: Promise<void>;
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => this.stop();

  constructor(
    private readonly provider: SherpaOnnxStt,
    options: SttOptions,
    private readonly signal: AbortSignal,
  ) {
    if (options.sampleRate !== MODEL_RATE)
      this.resampler = new LinearResampler(options.sampleRate, MODEL_RATE);
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

  get open(): boolean {
    return !this.queue.isEnded;
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
    if (this.decoder) this.decoder.accept(samples);
    else this.pending.push(samples);
  }

  flush(): void {
    if (this.closed || this.failed) return;
    if (this.decoder) this.decoder.flush();
    else this.pending.push('flush');
  }

  private start(model: LoadedSttModel): void {
    if (this.closed || this.failed) return;
    const options = this.provider.options;
    if (model.online) {
      const padding = Math.round((options.flushPaddingMs * MODEL_RATE) / 1000);
      this.decoder = new OnlineDecoder(model.online, this, padding, PROVIDER);
    } else if (model.offline) {
      const max = Math.round((options.maxUtteranceMs * MODEL_RATE) / 1000);
      this.decoder = new OfflineDecoder(model.offline, this, max, PROVIDER);
    } else {
      this.fail(asProviderError(new Error('no recogniser'), 'model_load_failed'));
      return;
    }
    for (const item of this.pending) {
      if (item === 'flush') this.decoder.flush();
      else this.decoder.accept(item);
    }
    this.pending = [];
  }

  final(
    result: SherpaRecognizerResult,
    startSample: number,
    endSample: number,
    useTimestamps: boolean,
  ): void {
    if (this.queue.isEnded) return;
    const text = result.text.trim();
    if (!text) return;
    const endOffsetMs = ms(endSample);
    const firstToken = useTimestamps ? result.timestamps?.[0] : undefined;
    const startOffsetMs = Math.min(
      endOffsetMs,
      ms(startSample) + (firstToken === undefined ? 0 : Math.round(firstToken * 1000)),
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

  partial(text: string): void {
    this.queue.push({ type: 'partial', text });
  }

  fail(error: ProviderError): void {
    if (this.failed || this.queue.isEnded) return;
    this.failed = true;
    this.decoder?.stop();
    this.queue.push({ type: 'error', error });
    this.queue.end();
    this.signal.removeEventListener('abort', this.onAbort);
  }

  /** Abort: drop everything, end the iteration now. */
  private stop(): void {
    this.closed = true;
    this.pending = [];
    this.decoder?.stop();
    this.queue.end();
  }

  /** Decodes the utterance in progress, then ends the iteration. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    if (this.closed) return;
    this.signal.removeEventListener('abort', this.onAbort);
    await this.ready;
    if (this.decoder && !this.failed && !this.queue.isEnded) await this.decoder.finish();
    this.closed = true;
    this.queue.end();
  }
}
