/** One Deepgram live-transcription socket behind the `SttStream` interface. */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { guardedSocket, ssrfRefusal } from '../../shared/provider-credentials.js';
import type { ProviderError } from '../../shared/provider-error.js';
import { EventQueue } from '../event-queue.js';
import type { SttEvent, SttOptions, SttStream } from '../stt.js';
import type { ResolvedDeepgramOptions } from './deepgram-stt.js';
import { closeError, DEEPGRAM, deepgramError, upgradeDetail, upgradeError } from './errors.js';
import { type DeepgramResults, parseDeepgramMessage } from './messages.js';

const MAX_ERROR_BODY_BYTES = 4096;

/** One `is_final` segment of the utterance in progress (times in ms of audio sent). */
interface Segment {
  text: string;
  confidence: number | undefined;
  words: number;
  startMs: number;
  endMs: number;
}

type State = 'connecting' | 'open' | 'closing' | 'done';

export class DeepgramStream implements SttStream {
  private readonly queue = new EventQueue<SttEvent>();
  private readonly ws: WebSocket | undefined;
  private state: State = 'connecting';
  /** Audio pushed before the socket opened (a bounded FIFO: the oldest is dropped when full). */
  private pending: Int16Array;
  private pendingSamples = 0;
  private readonly maxPendingSamples: number;
  /** Input samples dropped from `pending`: Deepgram's clock starts this much later. */
  private droppedSamples = 0;
  private pushedSamples = 0;
  private flushBeforeOpen = false;
  private closeBeforeOpen = false;
  private segments: Segment[] = [];
  private audioSinceKeepAlive = false;
  private audioSinceFinalize = false;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** Running while something must come back: the upgrade, a Finalize answer, the close. */
  private deadline: NodeJS.Timeout | undefined;
  private deadlineFor: 'upgrade' | 'finalize' | 'close' | undefined;
  private readonly maxBacklogBytes: number;
  private closed: Promise<void>;
  private resolveClosed: () => void = () => {};
  private readonly onAbort = () => this.finish();

  constructor(
    private readonly o: ResolvedDeepgramOptions,
    private readonly options: SttOptions,
    private readonly signal: AbortSignal,
    url: URL,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.maxPendingSamples = Math.max(1, Math.ceil((o.maxPendingAudioMs * options.sampleRate) / 1000));
    // Grown on demand: the socket usually opens within a few hundred ms.
    this.pending = new Int16Array(Math.min(this.maxPendingSamples, options.sampleRate / 2));
    this.maxBacklogBytes = (o.maxSendBacklogMs * options.sampleRate * 2) / 1000;
    if (signal.aborted) {
      this.finish();
      return;
    }
    if (!o.apiKey) {
      this.fail(deepgramError('unauthorized', 'no Deepgram API key configured', false));
      return;
    }
    // A team's base URL: the host is vetted at connect time (a literal IP here, a name in `lookup`).
    const { lookup, refused } = guardedSocket(o.guard, url);
    if (refused) {
      this.fail(
        ssrfRefusal(refused, 'stt_error', DEEPGRAM) ?? deepgramError('ssrf_refused', refused.message, false),
      );
      return;
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
    const ws = new WebSocket(url, {
      headers: { Authorization: `Token ${o.apiKey}` },
      perMessageDeflate: false,
      ...(lookup ? { lookup } : {}),
    });
    this.ws = ws;
    this.arm('upgrade');
    ws.on('open', () => this.onOpen());
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onMessage(data.toString());
    });
    ws.on('unexpected-response', (req, res) => this.onRefused(req, res));
    ws.on('error', (error) => {
      if (this.state === 'done') return;
      const refusal = ssrfRefusal(error, 'stt_error', DEEPGRAM);
      if (refusal) {
        this.fail(refusal);
        return;
      }
      const during = this.state === 'connecting' ? 'connecting to' : 'talking to';
      this.fail(
        deepgramError(
          this.state === 'connecting' ? 'connection_failed' : 'connection_lost',
          `error ${during} Deepgram: ${error.message}`,
          true,
          error,
        ),
      );
    });
    ws.on('close', (code, reason) => {
      if (this.state === 'closing') this.finish();
      else if (this.state !== 'done') this.fail(closeError(code, reason.toString()));
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<SttEvent> {
    return this.queue[Symbol.asyncIterator]();
  }

  push(frame: Int16Array): void {
    if (this.state === 'done' || this.state === 'closing' || this.closeBeforeOpen) return;
    this.pushedSamples += frame.length;
    if (this.state === 'connecting') {
      this.bufferBeforeOpen(frame);
      return;
    }
    const ws = this.ws;
    if (!ws) return;
    if (ws.bufferedAmount > this.maxBacklogBytes) {
      this.fail(
        deepgramError(
          'send_backlog',
          `more than ${this.o.maxSendBacklogMs} ms of audio waiting to be sent to Deepgram`,
          true,
        ),
      );
      return;
    }
    // No callback: ws copies (masks) the frame into its own buffer; nothing is allocated for us.
    ws.send(frame);
    this.audioSinceKeepAlive = true;
    this.audioSinceFinalize = true;
  }

  flush(): void {
    if (this.state === 'connecting') {
      this.flushBeforeOpen = true;
      return;
    }
    if (this.state !== 'open' || !this.audioSinceFinalize) return;
    this.audioSinceFinalize = false;
    this.sendJson({ type: 'Finalize' });
    if (!this.deadlineFor) this.arm('finalize');
  }

  close(): Promise<void> {
    if (this.state === 'connecting') {
      // Sent with the buffered audio once the socket opens (or dropped if it never does).
      this.closeBeforeOpen = true;
    } else if (this.state === 'open') {
      this.state = 'closing';
      this.sendJson({ type: 'CloseStream' });
      this.arm('close');
    }
    return this.closed;
  }

  private bufferBeforeOpen(frame: Int16Array): void {
    const cap = this.maxPendingSamples;
    const needed = this.pendingSamples + frame.length;
    if (needed > this.pending.length && this.pending.length < cap) {
      const grown = new Int16Array(Math.min(cap, Math.max(needed, this.pending.length * 2)));
      grown.set(this.pending.subarray(0, this.pendingSamples));
      this.pending = grown;
    }
    if (frame.length >= cap) {
      this.droppedSamples += this.pendingSamples + frame.length - cap;
      this.pending.set(frame.subarray(frame.length - cap));
      this.pendingSamples = cap;
      return;
    }
    const overflow = needed - cap;
    if (overflow > 0) {
      this.pending.copyWithin(0, overflow, this.pendingSamples);
      this.pendingSamples -= overflow;
      this.droppedSamples += overflow;
    }
    this.pending.set(frame, this.pendingSamples);
    this.pendingSamples += frame.length;
  }

  private onOpen(): void {
    if (this.state !== 'connecting' || !this.ws) return;
    this.state = 'open';
    this.disarm();
    if (this.pendingSamples > 0) {
      this.ws.send(this.pending.subarray(0, this.pendingSamples));
      this.audioSinceFinalize = true;
      this.audioSinceKeepAlive = true;
    }
    this.pending = new Int16Array(0);
    this.pendingSamples = 0;
    this.keepAliveTimer = setInterval(() => {
      if (!this.audioSinceKeepAlive && this.state === 'open') this.sendJson({ type: 'KeepAlive' });
      this.audioSinceKeepAlive = false;
    }, this.o.keepAliveMs);
    this.keepAliveTimer.unref();
    if (this.flushBeforeOpen) this.flush();
    if (this.closeBeforeOpen) void this.close();
  }

  private onRefused(req: { destroy(): void }, res: IncomingMessage): void {
    if (this.state === 'done') {
      req.destroy();
      return;
    }
    const status = res.statusCode ?? 0;
    const chunks: Buffer[] = [];
    let bytes = 0;
    const done = () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const retryAfter = res.headers['retry-after'];
      this.fail(
        upgradeError(
          status,
          upgradeDetail(res.headers['dg-error'], body),
          Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        ),
      );
      req.destroy();
    };
    res.on('data', (chunk: Buffer) => {
      if (bytes < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
      bytes += chunk.length;
    });
    res.on('end', done);
    res.on('error', done);
    res.on('aborted', done);
  }

  private onMessage(text: string): void {
    if (this.state === 'done') return;
    const message = parseDeepgramMessage(text);
    if (!message) return;
    if (this.deadlineFor === 'finalize') this.arm('finalize');
    switch (message.type) {
      case 'Results':
        this.onResults(message);
        break;
      case 'UtteranceEnd':
        this.emitFinal();
        break;
      case 'Error':
        this.fail(
          deepgramError(
            'provider_error',
            `Deepgram: ${message.description ?? message.message ?? message.err_msg ?? 'error'}`,
            true,
          ),
        );
        break;
      default:
        break;
    }
  }

  private onResults(r: DeepgramResults): void {
    const alt = r.channel.alternatives[0];
    if (!alt) return;
    const transcript = alt.transcript.trim();
    if (r.is_final) {
      if (transcript) {
        const words = alt.words ?? [];
        const first = words[0];
        const last = words[words.length - 1];
        this.segments.push({
          text: transcript,
          confidence: alt.confidence,
          words: Math.max(1, words.length),
          startMs: this.toStreamMs(first ? first.start : r.start),
          endMs: this.toStreamMs(last ? last.end : r.start + r.duration),
        });
      }
      if (r.speech_final || r.from_finalize) this.emitFinal();
      if (r.from_finalize && this.deadlineFor === 'finalize') this.disarm();
    } else if (transcript) {
      const text = this.segments.length > 0 ? `${this.utteranceText()} ${transcript}` : transcript;
      this.queue.push({ type: 'partial', text });
    }
  }

  private utteranceText(): string {
    return this.segments.map((s) => s.text).join(' ');
  }

  /** Deepgram seconds (of audio it received) → ms of audio pushed to this stream. */
  private toStreamMs(sec: number): number {
    const ms = sec * 1000 + (this.droppedSamples * 1000) / this.options.sampleRate;
    return Math.min(Math.max(0, ms), (this.pushedSamples * 1000) / this.options.sampleRate);
  }

  private emitFinal(): void {
    const segments = this.segments;
    if (segments.length === 0) return;
    this.segments = [];
    let weighted = 0;
    let weight = 0;
    for (const s of segments) {
      if (s.confidence === undefined) continue;
      weighted += Math.min(1, Math.max(0, s.confidence)) * s.words;
      weight += s.words;
    }
    const startOffsetMs = Math.round(segments[0]?.startMs ?? 0);
    const endOffsetMs = Math.round(segments[segments.length - 1]?.endMs ?? startOffsetMs);
    this.queue.push({
      type: 'final',
      text: segments.map((s) => s.text).join(' '),
      ...(weight > 0 ? { confidence: Math.round((weighted / weight) * 1000) / 1000 } : {}),
      startOffsetMs,
      endOffsetMs: Math.max(startOffsetMs, endOffsetMs),
      timestampMs: Date.now(),
    });
  }

  private sendJson(message: { type: 'KeepAlive' | 'Finalize' | 'CloseStream' }): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private arm(what: 'upgrade' | 'finalize' | 'close'): void {
    clearTimeout(this.deadline);
    this.deadlineFor = what;
    this.deadline = setTimeout(() => {
      this.deadlineFor = undefined;
      if (what === 'close' || this.closeBeforeOpen) {
        this.finish();
        return;
      }
      const waiting = what === 'upgrade' ? 'to accept the connection' : 'to finalise the utterance';
      this.fail(
        deepgramError('timeout', `Deepgram took longer than ${this.o.timeoutMs} ms ${waiting}`, true),
      );
    }, this.o.timeoutMs);
  }

  private disarm(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.deadlineFor = undefined;
  }

  private fail(error: ProviderError): void {
    if (this.state === 'done') return;
    this.queue.push({ type: 'error', error });
    this.finish(false);
  }

  /** Ends the stream: emits what was finalised (unless failed), releases the socket and timers. */
  private finish(emitPending = true): void {
    if (this.state === 'done') return;
    const aborted = this.signal.aborted;
    this.state = 'done';
    if (emitPending && !aborted) this.emitFinal();
    this.disarm();
    clearInterval(this.keepAliveTimer);
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    this.queue.end();
    this.resolveClosed();
  }
}
