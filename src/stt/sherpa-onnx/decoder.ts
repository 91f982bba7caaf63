/**
 * What a stream's decoder (offline or online) tells the stream, and what the stream asks of it.
 * Positions are sample counts at MODEL_RATE on the caller's clock (audio pushed; no padding).
 */
import type { ProviderError } from '../../shared/provider-error.js';
import type { SherpaRecognizerResult } from '../../shared/sherpa-onnx/native.js';

/** The rate recognisers are fed at: every supported model's feature rate. */
export const MODEL_RATE = 16000;

export interface DecoderSink {
  /** `useTimestamps`: the result's token times count from `startSample`. */
  final(result: SherpaRecognizerResult, startSample: number, endSample: number, useTimestamps: boolean): void;
  partial(text: string): void;
  fail(error: ProviderError): void;
  /** False once the stream ended (abort or failure): results are dropped. */
  readonly open: boolean;
}

export interface SttDecoder {
  accept(samples: Float32Array): void;
  flush(): void;
  /** Flushes and resolves once everything given so far is decoded and reported. */
  finish(): Promise<void>;
  /** Drops everything not decoded yet (abort). */
  stop(): void;
}
