import { EventQueue } from '../../stt/event-queue.js';
import type { SttEvent, SttOptions, SttProvider, SttStream } from '../../stt/stt.js';
import { canFallBack, type ReportError, switchedError } from './fallback-error.js';

/** Audio kept since the last flush, replayed into the fallback so the current utterance survives. */
const REPLAY_LIMIT_MS = 10_000;

/**
 * The last ≤ `limitMs` of frames, on the per-frame path of every call: a push is O(1) amortised
 * (old frames are dropped by moving a start index; the array is compacted once half of it is dead).
 */
export class ReplayBuffer {
  private frames: Int16Array[] = [];
  private start = 0;
  private samples = 0;
  private readonly limit: number;

  constructor(sampleRate: number, limitMs: number) {
    this.limit = (sampleRate * limitMs) / 1000;
  }

  push(frame: Int16Array): void {
    this.frames.push(frame);
    this.samples += frame.length;
    while (this.samples > this.limit && this.frames.length - this.start > 1) {
      this.samples -= (this.frames[this.start] as Int16Array).length;
      this.start++;
    }
    if (this.start > 64 && this.start * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.start);
      this.start = 0;
    }
  }

  clear(): void {
    this.frames = [];
    this.start = 0;
    this.samples = 0;
  }

  *[Symbol.iterator](): Iterator<Int16Array> {
    for (let i = this.start; i < this.frames.length; i++) yield this.frames[i] as Int16Array;
  }
}

/**
 * The primary STT stream until it reports a retryable `error` event, then a fallback stream for
 * the rest of the call. The audio of the utterance in progress (up to 10 s since the last
 * flush) is replayed into the fallback, so what the caller was saying is not lost. Without a
 * configured fallback the catalog passes the primary itself: a dropped connection (a streaming
 * STT's most common failure) is then answered by one new connection to the same provider.
 */
export class FallbackStt implements SttProvider {
  constructor(
    private readonly primary: SttProvider,
    private readonly fallback: SttProvider,
    private readonly fallbackOptions: { language?: string },
    private readonly report: ReportError,
  ) {}

  get name(): string {
    return this.primary.name;
  }

  stream(options: SttOptions, signal: AbortSignal): SttStream {
    const out = new EventQueue<SttEvent>();
    const pending = new ReplayBuffer(options.sampleRate, REPLAY_LIMIT_MS);
    let phrases = options.expectedPhrases;
    let current = this.primary.stream(options, signal);
    let onFallback = false;
    let closed = false;

    const pump = async (stream: SttStream, isFallback: boolean): Promise<void> => {
      for await (const event of stream) {
        if (closed) return;
        if (event.type === 'error' && !isFallback && canFallBack(event.error)) {
          onFallback = true;
          this.report(
            switchedError(
              event.error,
              this.fallback === this.primary
                ? `reconnected to ${event.error.provider}`
                : `continuing with fallback provider ${this.fallback.name}`,
            ),
          );
          void stream.close().catch(() => {});
          const { model: _model, ...rest } = options;
          current = this.fallback.stream(
            { ...rest, ...this.fallbackOptions, ...(phrases ? { expectedPhrases: phrases } : {}) },
            signal,
          );
          for (const frame of pending) current.push(frame);
          void pump(current, true);
          return;
        }
        out.push(event);
      }
      if (isFallback || !onFallback) out.end();
    };
    void pump(current, false);

    return {
      push: (frame) => {
        if (!onFallback) pending.push(frame);
        current.push(frame);
      },
      flush: () => {
        pending.clear();
        current.flush();
      },
      setExpectedPhrases: (next) => {
        phrases = next;
        current.setExpectedPhrases?.(next);
      },
      close: async () => {
        closed = true;
        await current.close();
        out.end();
      },
      [Symbol.asyncIterator]: () => out[Symbol.asyncIterator](),
    };
  }
}
