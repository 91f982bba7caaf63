import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { EngineProviders } from '../engine/providers.js';
import type { ChatMessage, LlmChunk, LlmProvider, LlmRequest, LlmToolCall } from '../llm/llm.js';
import { type Clock, sleep, systemClock } from '../shared/clock.js';
import type { ProviderError } from '../shared/provider-error.js';
import type { SttEvent, SttOptions, SttProvider, SttStream } from '../stt/stt.js';
import type { TtsOptions, TtsProvider } from '../tts/tts.js';
import type { Vad, VadOptions } from '../vad/vad.js';
import { AsyncQueue } from './async-queue.js';
import { EnergyVad } from './energy-vad.js';

/**
 * Fake LLM, STT and TTS providers with realistic latencies on an injectable clock, for tests
 * and the benchmark. Caller "speech" is a tone (the energy VAD hears it); what it says is
 * told to the fake STT beforehand (`FakeStt.willHear`).
 */

// ---------------------------------------------------------------- audio
const toneCache = new Map<number, Int16Array>();

/** One second of a 220 Hz tone at the given rate (amplitude 4000), cached. */
export function toneSecond(sampleRate: number): Int16Array {
  let tone = toneCache.get(sampleRate);
  if (!tone) {
    tone = new Int16Array(sampleRate);
    for (let i = 0; i < sampleRate; i++)
      tone[i] = Math.round(4000 * Math.sin((2 * Math.PI * 220 * i) / sampleRate));
    toneCache.set(sampleRate, tone);
  }
  return tone;
}

/** `ms` of tone (speech) or silence as frames of `frameMs`. */
export function frames(
  kind: 'speech' | 'silence',
  ms: number,
  sampleRate: number,
  frameMs = 20,
): Int16Array[] {
  const n = (sampleRate * frameMs) / 1000;
  const tone = toneSecond(sampleRate);
  const out: Int16Array[] = [];
  for (let t = 0; t < ms; t += frameMs) {
    const frame = new Int16Array(n);
    if (kind === 'speech') {
      const offset = ((t / 1000) * sampleRate) % sampleRate;
      for (let i = 0; i < n; i++) frame[i] = tone[(offset + i) % sampleRate] as number;
    }
    out.push(frame);
  }
  return out;
}

// ---------------------------------------------------------------- LLM
export type FakeReply =
  | string
  | { text?: string; toolCalls?: Omit<LlmToolCall, 'id'>[]; error?: ProviderError; firstTokenMs?: number };

export interface FakeLlmOptions {
  clock?: Clock;
  /** Time to first token (ms). Default 250. */
  firstTokenMs?: number;
  /** Time between tokens (ms). Default 20. */
  tokenMs?: number;
  /** The reply to a conversation. Default: echoes the last user message. */
  respond?: (messages: readonly ChatMessage[], request: LlmRequest) => FakeReply;
}

export class FakeLlm implements LlmProvider {
  readonly name = 'fake-llm';
  readonly requests: LlmRequest[] = [];
  private toolCallCounter = 0;

  constructor(private readonly o: FakeLlmOptions = {}) {}

  async *chat(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmChunk> {
    const clock = this.o.clock ?? systemClock;
    this.requests.push(request);
    const last = [...request.messages].reverse().find((m) => m.role === 'user');
    const reply: FakeReply = this.o.respond
      ? this.o.respond(request.messages, request)
      : `You said: ${last?.content ?? 'nothing'}.`;
    const r = typeof reply === 'string' ? { text: reply } : reply;
    await sleep(clock, r.firstTokenMs ?? this.o.firstTokenMs ?? 250, signal);
    if (r.error) throw r.error;
    const tokens = (r.text ?? '').match(/\S+\s*/g) ?? [];
    for (let i = 0; i < tokens.length; i++) {
      if (i > 0) await sleep(clock, this.o.tokenMs ?? 20, signal);
      yield { type: 'text', text: tokens[i] as string };
    }
    for (const call of r.toolCalls ?? []) {
      yield { type: 'tool-call', call: { id: `call_${++this.toolCallCounter}`, ...call } };
    }
    yield { type: 'usage', inputTokens: request.messages.length * 10, outputTokens: tokens.length };
  }
}

// ---------------------------------------------------------------- STT
export interface FakeSttOptions {
  clock?: Clock;
  /** From flush (end of speech) to the final transcript (ms). Default 150. */
  finalLatencyMs?: number;
  /** Partial transcript every this much speech (ms); 0 for none. Default 400. */
  partialEveryMs?: number;
  /** Emit an error event instead of transcripts. */
  fail?: ProviderError;
  /** Transcript of an utterance nobody announced with `willHear` (default: none). */
  defaultText?: string;
}

class FakeSttStream implements SttStream {
  private readonly queue = new AsyncQueue<SttEvent>();
  private positionMs = 0;
  private speechStartMs = -1;
  private speechEndMs = 0;
  private speechSinceFlushMs = 0;
  private lastPartialAt = 0;
  expectedPhrases: readonly string[] | undefined;

  constructor(
    private readonly stt: FakeStt,
    private readonly options: SttOptions,
    private readonly signal: AbortSignal,
  ) {
    this.expectedPhrases = options.expectedPhrases;
    signal.addEventListener('abort', () => this.queue.end(), { once: true });
    if (stt.o.fail) {
      const error = stt.o.fail;
      (stt.o.clock ?? systemClock).setTimeout(() => this.queue.push({ type: 'error', error }), 10);
    }
  }

  push(frame: Int16Array): void {
    const frameMs = (frame.length * 1000) / this.options.sampleRate;
    let sum = 0;
    for (let i = 0; i < frame.length; i++) {
      const v = frame[i] as number;
      sum += v < 0 ? -v : v;
    }
    if (sum / frame.length > 500) {
      if (this.speechStartMs < 0) this.speechStartMs = this.positionMs;
      this.speechEndMs = this.positionMs + frameMs;
      this.speechSinceFlushMs += frameMs;
      const every = this.stt.o.partialEveryMs ?? 400;
      const next = this.stt.peek();
      if (every > 0 && next && this.speechSinceFlushMs - this.lastPartialAt >= every) {
        this.lastPartialAt = this.speechSinceFlushMs;
        const words = next.split(/\s+/);
        const share = Math.min(1, this.speechSinceFlushMs / Math.max(1, words.length * 300));
        const partial = words.slice(0, Math.max(1, Math.floor(words.length * share))).join(' ');
        this.queue.push({ type: 'partial', text: partial });
      }
    }
    this.positionMs += frameMs;
  }

  flush(): void {
    if (this.speechStartMs < 0) return;
    const text = this.stt.take();
    const start = this.speechStartMs;
    const end = this.speechEndMs;
    this.speechStartMs = -1;
    this.speechSinceFlushMs = 0;
    this.lastPartialAt = 0;
    if (text === undefined) return;
    const clock = this.stt.o.clock ?? systemClock;
    clock.setTimeout(() => {
      if (this.signal.aborted) return;
      this.queue.push({
        type: 'final',
        text,
        confidence: 0.92,
        startOffsetMs: start,
        endOffsetMs: end,
        timestampMs: clock.now(),
      });
    }, this.stt.o.finalLatencyMs ?? 150);
  }

  setExpectedPhrases(phrases: readonly string[] | undefined): void {
    this.expectedPhrases = phrases;
    this.stt.phraseLog.push(phrases);
  }

  async close(): Promise<void> {
    this.queue.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<SttEvent> {
    return this.queue[Symbol.asyncIterator]();
  }
}

export class FakeStt implements SttProvider {
  readonly name = 'fake-stt';
  private readonly script: string[] = [];
  readonly phraseLog: (readonly string[] | undefined)[] = [];
  readonly streams: FakeSttStream[] = [];

  constructor(readonly o: FakeSttOptions = {}) {}

  /** The next utterance the caller makes will be transcribed as `text`. */
  willHear(text: string): void {
    this.script.push(text);
  }

  /** @internal */
  peek(): string | undefined {
    return this.script[0] ?? this.o.defaultText;
  }

  /** @internal */
  take(): string | undefined {
    return this.script.shift() ?? this.o.defaultText;
  }

  stream(options: SttOptions, signal: AbortSignal): SttStream {
    this.phraseLog.push(options.expectedPhrases);
    const stream = new FakeSttStream(this, options, signal);
    this.streams.push(stream);
    return stream;
  }
}

// ---------------------------------------------------------------- TTS
export interface FakeTtsOptions {
  clock?: Clock;
  /** Time to first audio (ms). Default 80. */
  firstChunkMs?: number;
  /** Audio per character of text (ms). Default 55 (about 180 words a minute). */
  msPerChar?: number;
  /** Audio per chunk (ms) and the time to make each next chunk (ms). Defaults 100 and 10. */
  chunkMs?: number;
  chunkGenerationMs?: number;
  fail?: ProviderError;
}

export class FakeTts implements TtsProvider {
  readonly name = 'fake-tts';
  readonly texts: string[] = [];

  constructor(private readonly o: FakeTtsOptions = {}) {}

  /** The audio duration this provider makes for `text` (ms). */
  durationMs(text: string): number {
    return Math.round(text.length * (this.o.msPerChar ?? 55));
  }

  async *synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array> {
    const clock = this.o.clock ?? systemClock;
    this.texts.push(text);
    await sleep(clock, this.o.firstChunkMs ?? 80, signal);
    if (this.o.fail) throw this.o.fail;
    const total = Math.round((this.durationMs(text) * options.sampleRate) / 1000);
    const chunk = Math.round(((this.o.chunkMs ?? 100) * options.sampleRate) / 1000);
    const tone = toneSecond(options.sampleRate);
    for (let done = 0; done < total; done += chunk) {
      if (done > 0) await sleep(clock, this.o.chunkGenerationMs ?? 10, signal);
      const n = Math.min(chunk, total - done);
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = tone[(done + i) % options.sampleRate] as number;
      yield out;
    }
  }
}

// ---------------------------------------------------------------- all of them
export interface FakeProviders extends EngineProviders {
  readonly fakeLlm: LlmProvider;
  readonly fakeStt: FakeStt;
  readonly fakeTts: FakeTts;
}

export function fakeProviders(
  o: { clock?: Clock; llm?: LlmProvider | FakeLlmOptions; stt?: FakeSttOptions; tts?: FakeTtsOptions } = {},
): FakeProviders {
  const clock = o.clock ?? systemClock;
  const llm: LlmProvider =
    o.llm && 'chat' in o.llm ? (o.llm as LlmProvider) : new FakeLlm({ clock, ...(o.llm as FakeLlmOptions) });
  const stt = new FakeStt({ clock, ...o.stt });
  const tts = new FakeTts({ clock, ...o.tts });
  return {
    fakeLlm: llm,
    fakeStt: stt,
    fakeTts: tts,
    llm: (_assistant: AssistantSpec) => llm,
    stt: () => stt,
    tts: () => tts,
    vad: (options: VadOptions): Vad => new EnergyVad(options),
  };
}
