/** One OpenAI STT stream: buffers each utterance and transcribes it on flush, in order. */
import { encodeWav } from '../../audio/wav.js';
import { guardedDispatcher } from '../../shared/provider-credentials.js';
import { ProviderError } from '../../shared/provider-error.js';
import { EventQueue } from '../event-queue.js';
import type { SttEvent, SttOptions, SttStream } from '../stt.js';
import { OPENAI, openAiError } from './errors.js';
import { isoLanguage, modelStreams, type ResolvedOpenAiSttOptions } from './openai-stt.js';
import { transcribe } from './transcription-request.js';

interface Utterance {
  wav: Buffer;
  startOffsetMs: number;
  endOffsetMs: number;
}

/** Initial utterance buffer (grows by doubling up to the cap). */
const INITIAL_BUFFER_MS = 2_000;

export class OpenAiSttStream implements SttStream {
  private readonly queue = new EventQueue<SttEvent>();
  private readonly controller = new AbortController();
  private readonly maxSamples: number;
  private buffer: Int16Array;
  private samples = 0;
  /** Stream sample indexes of the utterance's first and last sample above the threshold. */
  private firstVoiced = -1;
  private lastVoiced = -1;
  private pushedSamples = 0;
  private chain: Promise<void> = Promise.resolve();
  private state: 'open' | 'closing' | 'done' = 'open';
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => this.finish();

  constructor(
    private readonly o: ResolvedOpenAiSttOptions,
    private readonly options: SttOptions,
    private readonly signal: AbortSignal,
  ) {
    this.maxSamples = Math.max(1, Math.floor((o.maxUtteranceMs * options.sampleRate) / 1000));
    this.buffer = new Int16Array(Math.min(this.maxSamples, (INITIAL_BUFFER_MS * options.sampleRate) / 1000));
    if (signal.aborted) {
      this.finish();
      return;
    }
    if (!o.apiKey) {
      this.fail(openAiError('unauthorized', 'no OpenAI API key configured', false));
      return;
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<SttEvent> {
    return this.queue[Symbol.asyncIterator]();
  }

  push(frame: Int16Array): void {
    if (this.state !== 'open') return;
    const threshold = this.o.silenceThreshold;
    let i = 0;
    while (i < frame.length) {
      if (this.samples === this.maxSamples) this.cut(); // the cap: send what we have, go on
      if (this.samples === this.buffer.length) this.grow();
      const take = Math.min(frame.length - i, this.buffer.length - this.samples);
      const buffer = this.buffer;
      const at = this.samples;
      const streamAt = this.pushedSamples;
      for (let k = 0; k < take; k++) {
        const s = frame[i + k] ?? 0;
        buffer[at + k] = s;
        if (s > threshold || s < -threshold) {
          if (this.firstVoiced < 0) this.firstVoiced = streamAt + k;
          this.lastVoiced = streamAt + k;
        }
      }
      this.samples += take;
      this.pushedSamples += take;
      i += take;
    }
  }

  flush(): void {
    if (this.state !== 'open') return;
    this.cut();
  }

  close(): Promise<void> {
    if (!this.closing) {
      if (this.state === 'open') {
        this.cut();
        this.state = 'closing';
      }
      this.closing = this.chain.then(() => this.finish());
    }
    return this.closing;
  }

  private grow(): void {
    const next = new Int16Array(Math.min(this.maxSamples, this.buffer.length * 2));
    next.set(this.buffer.subarray(0, this.samples));
    this.buffer = next;
  }

  /** Ends the buffered utterance: queues its transcription if it holds speech, else drops it. */
  private cut(): void {
    const rate = this.options.sampleRate;
    const samples = this.samples;
    const voiced = this.firstVoiced >= 0;
    const utterance: Utterance | undefined =
      voiced && (samples * 1000) / rate >= this.o.minUtteranceMs
        ? {
            wav: encodeWav(this.buffer.subarray(0, samples), rate),
            startOffsetMs: Math.round((this.firstVoiced * 1000) / rate),
            endOffsetMs: Math.round(((this.lastVoiced + 1) * 1000) / rate),
          }
        : undefined;
    this.samples = 0;
    this.firstVoiced = -1;
    this.lastVoiced = -1;
    if (utterance) this.chain = this.chain.then(() => this.transcribe(utterance));
  }

  private async transcribe(u: Utterance): Promise<void> {
    if (this.state === 'done') return;
    const model = this.options.model ?? this.o.model;
    const stream = this.o.streamReplies && modelStreams(model);
    try {
      const result = await transcribe({
        url: `${this.o.baseUrl.replace(/\/+$/, '')}/audio/transcriptions`,
        apiKey: this.o.apiKey ?? '',
        wav: u.wav,
        model,
        language: isoLanguage(this.options.language),
        prompt: this.o.prompt,
        stream,
        logprobs: model.startsWith('gpt-4o'),
        timeoutMs: this.o.timeoutMs,
        signal: this.controller.signal,
        dispatcher: guardedDispatcher(this.o.guard),
        onText: (text) => {
          if (this.state !== 'done' && text.trim()) this.queue.push({ type: 'partial', text: text.trim() });
        },
      });
      if (this.isDone()) return;
      const text = result.text.trim();
      if (!text) return;
      this.queue.push({
        type: 'final',
        text,
        ...(result.confidence === undefined ? {} : { confidence: result.confidence }),
        startOffsetMs: u.startOffsetMs,
        endOffsetMs: Math.max(u.startOffsetMs, u.endOffsetMs),
        timestampMs: Date.now(),
      });
    } catch (error) {
      if (this.isDone() || this.controller.signal.aborted) return;
      this.fail(ProviderError.from(error, 'stt_error', OPENAI, 'stream_failed'));
    }
  }

  /** (A method, so the compiler does not carry a narrowing of `state` across an `await`.) */
  private isDone(): boolean {
    return this.state === 'done';
  }

  private fail(error: ProviderError): void {
    if (this.state === 'done') return;
    this.queue.push({ type: 'error', error });
    this.finish();
  }

  private finish(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.signal.removeEventListener('abort', this.onAbort);
    this.controller.abort();
    this.buffer = new Int16Array(0);
    this.samples = 0;
    this.queue.end();
  }
}
