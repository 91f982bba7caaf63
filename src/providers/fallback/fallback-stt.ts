import { EventQueue } from '../../stt/event-queue.js';
import type { SttEvent, SttOptions, SttProvider, SttStream } from '../../stt/stt.js';
import { canFallBack, type ReportError, switchedError } from './fallback-error.js';

/** Audio kept since the last flush, replayed into the fallback so the current utterance survives. */
const REPLAY_LIMIT_MS = 10_000;

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
    const pending: Int16Array[] = [];
    let pendingMs = 0;
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
        if (!onFallback) {
          pending.push(frame);
          pendingMs += (frame.length * 1000) / options.sampleRate;
          while (pendingMs > REPLAY_LIMIT_MS && pending.length > 1) {
            const dropped = pending.shift() as Int16Array;
            pendingMs -= (dropped.length * 1000) / options.sampleRate;
          }
        }
        current.push(frame);
      },
      flush: () => {
        pending.length = 0;
        pendingMs = 0;
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
