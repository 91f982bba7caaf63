/**
 * Non-streaming models: the utterance is buffered and decoded on flush (or when it reaches the
 * cap) in sherpa's worker thread (`decodeAsync`), one decode after another so finals keep their
 * order. The event loop never waits for a decode.
 */
import { ProviderError } from '../../shared/provider-error.js';
import type { SherpaOfflineRecognizer, SherpaRecognizerResult } from '../../shared/sherpa-onnx/native.js';
import type { DecoderSink, SttDecoder } from './decoder.js';
import { MODEL_RATE } from './decoder.js';

function concat(chunks: readonly Float32Array[], total: number): Float32Array {
  const out = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export class OfflineDecoder implements SttDecoder {
  private utterance: Float32Array[] = [];
  private utteranceSamples = 0;
  private utteranceStart = 0;
  /** Samples accepted so far (the caller's clock). */
  private accepted = 0;
  private decoding: Promise<void> = Promise.resolve();

  constructor(
    private readonly recognizer: SherpaOfflineRecognizer,
    private readonly sink: DecoderSink,
    private readonly maxUtteranceSamples: number,
    private readonly provider: string,
  ) {}

  accept(samples: Float32Array): void {
    if (this.utteranceSamples === 0) this.utteranceStart = this.accepted;
    this.accepted += samples.length;
    this.utterance.push(samples);
    this.utteranceSamples += samples.length;
    if (this.utteranceSamples >= this.maxUtteranceSamples) this.flush();
  }

  flush(): void {
    if (this.utteranceSamples === 0) return;
    const samples = concat(this.utterance, this.utteranceSamples);
    const start = this.utteranceStart;
    const end = start + this.utteranceSamples;
    this.utterance = [];
    this.utteranceSamples = 0;
    this.decoding = this.decoding.then(() => this.decode(samples, start, end));
  }

  async finish(): Promise<void> {
    this.flush();
    await this.decoding;
  }

  stop(): void {
    this.utterance = [];
    this.utteranceSamples = 0;
  }

  private async decode(samples: Float32Array, start: number, end: number): Promise<void> {
    if (!this.sink.open) return;
    let result: SherpaRecognizerResult;
    try {
      const stream = this.recognizer.createStream();
      stream.acceptWaveform({ samples, sampleRate: MODEL_RATE });
      result = await this.recognizer.decodeAsync(stream);
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
      return;
    }
    if (this.sink.open) this.sink.final(result, start, end, true);
  }
}
