import { describe, expect, it } from 'vitest';
import type { LlmChunk, LlmProvider } from '../../src/llm/llm.js';
import { FallbackLlm } from '../../src/providers/fallback/fallback-llm.js';
import { FallbackStt, ReplayBuffer } from '../../src/providers/fallback/fallback-stt.js';
import { FallbackTts } from '../../src/providers/fallback/fallback-tts.js';
import { RetryOnceLlm, RetryOnceTts } from '../../src/providers/fallback/retry-once.js';
import { ProviderError } from '../../src/shared/provider-error.js';
import { EventQueue } from '../../src/stt/event-queue.js';
import type { SttEvent, SttProvider } from '../../src/stt/stt.js';
import { FakeLlm, FakeStt, FakeTts, frames } from '../../src/testing/fake-providers.js';
import type { TtsProvider } from '../../src/tts/tts.js';

const failure = (
  type: ProviderError['type'],
  retryable: boolean,
  code = retryable ? 'server_error' : 'unauthorized',
) => new ProviderError({ type, code, message: `${code} from primary`, provider: 'primary', retryable });

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const request = { model: 'primary-model', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('FallbackLlm', () => {
  it('switches on a retryable failure, reports it once, and stays on the fallback', async () => {
    let primaryCalls = 0;
    const primary: LlmProvider = {
      name: 'primary',
      async *chat(): AsyncIterable<LlmChunk> {
        primaryCalls++;
        yield* [];
        throw failure('llm_error', true);
      },
    };
    const fallback = new FakeLlm({ firstTokenMs: 1, tokenMs: 0, respond: () => 'from fallback' });
    const reported: ProviderError[] = [];
    const llm = new FallbackLlm(primary, fallback, 'fallback-model', (e) => reported.push(e));
    const first = await collect(llm.chat(request, new AbortController().signal));
    expect(
      first
        .filter((c) => c.type === 'text')
        .map((c) => (c as { text: string }).text)
        .join(''),
    ).toBe('from fallback');
    expect(fallback.requests[0]?.model).toBe('fallback-model');
    await collect(llm.chat(request, new AbortController().signal));
    expect(primaryCalls).toBe(1);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({
      type: 'llm_error',
      code: 'server_error',
      provider: 'primary',
      retryable: true,
    });
    expect(reported[0]?.message).toContain('continuing with fallback provider fake-llm');
  });

  it('does not mask a non-retryable failure or an abort', async () => {
    const primary = new FakeLlm({ firstTokenMs: 1, respond: () => ({ error: failure('llm_error', false) }) });
    const fallback = new FakeLlm({ firstTokenMs: 1 });
    const reported: ProviderError[] = [];
    const llm = new FallbackLlm(primary, fallback, 'm', (e) => reported.push(e));
    await expect(collect(llm.chat(request, new AbortController().signal))).rejects.toMatchObject({
      code: 'unauthorized',
    });
    expect(reported).toHaveLength(0);
    expect(fallback.requests).toHaveLength(0);
  });
});

describe('FallbackTts', () => {
  const failing = (afterChunks: number): TtsProvider => ({
    name: 'primary',
    async *synthesize() {
      for (let i = 0; i < afterChunks; i++) yield new Int16Array(160);
      throw failure('tts_error', true);
    },
  });

  it('speaks a sentence that failed before any audio with the fallback, with its own voice', async () => {
    const fallback = new FakeTts();
    const voices: (string | undefined)[] = [];
    const spy: TtsProvider = {
      name: 'fallback',
      synthesize: (text, options, signal) => {
        voices.push(options.voice);
        return fallback.synthesize(text, options, signal);
      },
    };
    const reported: ProviderError[] = [];
    const tts = new FallbackTts(failing(0), spy, { voice: 'backup-voice' }, (e) => reported.push(e));
    const audio = await collect(
      tts.synthesize(
        'Hello there.',
        { sampleRate: 16000, voice: 'primary-voice' },
        new AbortController().signal,
      ),
    );
    expect(audio.length).toBeGreaterThan(0);
    expect(voices).toEqual(['backup-voice']);
    expect(reported).toHaveLength(1);
  });

  it('a sentence that broke midway is not repeated; the next one uses the fallback', async () => {
    const reported: ProviderError[] = [];
    const fallbackTexts: string[] = [];
    const fallback: TtsProvider = {
      name: 'fallback',
      async *synthesize(text) {
        fallbackTexts.push(text);
        yield new Int16Array(160);
      },
    };
    const tts = new FallbackTts(failing(2), fallback, {}, (e) => reported.push(e));
    const signal = new AbortController().signal;
    expect(await collect(tts.synthesize('One.', { sampleRate: 8000 }, signal))).toHaveLength(2);
    expect(await collect(tts.synthesize('Two.', { sampleRate: 8000 }, signal))).toHaveLength(1);
    expect(fallbackTexts).toEqual(['Two.']);
    expect(reported).toHaveLength(1);
  });
});

describe('FallbackStt', () => {
  it('on a retryable error event, replays the utterance so far into the fallback and goes on', async () => {
    const primaryQueue = new EventQueue<SttEvent>();
    const primaryFrames: Int16Array[] = [];
    const primary: SttProvider = {
      name: 'primary',
      stream: () => ({
        push: (f) => primaryFrames.push(f),
        flush: () => {},
        close: async () => primaryQueue.end(),
        [Symbol.asyncIterator]: () => primaryQueue[Symbol.asyncIterator](),
      }),
    };
    const fallback = new FakeStt({ finalLatencyMs: 1 });
    fallback.willHear('book a table');
    const reported: ProviderError[] = [];
    const stt = new FallbackStt(primary, fallback, { language: 'en-GB' }, (e) => reported.push(e));
    const stream = stt.stream(
      { sampleRate: 16000, language: 'en-US', model: 'nova-3' },
      new AbortController().signal,
    );
    const speech = frames('speech', 600, 16000);
    for (const f of speech.slice(0, 20)) stream.push(f);
    primaryQueue.push({ type: 'error', error: failure('stt_error', true, 'connection_lost') });
    const events: SttEvent[] = [];
    const reading = (async () => {
      for await (const e of stream) {
        events.push(e);
        if (e.type === 'final') return;
      }
    })();
    await expect.poll(() => reported.length).toBe(1);
    for (const f of speech.slice(20)) stream.push(f);
    stream.flush();
    await reading;
    await stream.close();
    expect(primaryFrames).toHaveLength(20);
    expect(events.at(-1)).toMatchObject({ type: 'final', text: 'book a table', startOffsetMs: 0 });
    expect(events.some((e) => e.type === 'error')).toBe(false);
    expect(fallback.streams).toHaveLength(1);
    expect(reported[0]).toMatchObject({ type: 'stt_error', code: 'connection_lost', retryable: true });
  });
});

describe('RetryOnce (no fallback configured)', () => {
  it('asks again once when nothing was produced; a second failure surfaces', async () => {
    let calls = 0;
    const flaky: LlmProvider = {
      name: 'flaky',
      async *chat(): AsyncIterable<LlmChunk> {
        calls++;
        yield* [];
        throw failure('llm_error', true);
      },
    };
    const reported: ProviderError[] = [];
    const llm = new RetryOnceLlm(flaky, (e) => reported.push(e));
    await expect(collect(llm.chat(request, new AbortController().signal))).rejects.toMatchObject({
      code: 'server_error',
    });
    expect(calls).toBe(2);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.message).toContain('retried once');
  });

  it('does not ask again once audio was produced, nor for a non-retryable failure', async () => {
    let calls = 0;
    const midway: TtsProvider = {
      name: 'midway',
      async *synthesize() {
        calls++;
        yield new Int16Array(160);
        throw failure('tts_error', true);
      },
    };
    const reported: ProviderError[] = [];
    const tts = new RetryOnceTts(midway, (e) => reported.push(e));
    await expect(
      collect(tts.synthesize('Hi.', { sampleRate: 8000 }, new AbortController().signal)),
    ).rejects.toBeInstanceOf(ProviderError);
    expect(calls).toBe(1);
    const bad = new RetryOnceLlm(
      new FakeLlm({ firstTokenMs: 1, respond: () => ({ error: failure('llm_error', false) }) }),
      (e) => reported.push(e),
    );
    await expect(collect(bad.chat(request, new AbortController().signal))).rejects.toMatchObject({
      code: 'unauthorized',
    });
    expect(reported).toHaveLength(0);
  });
});

describe('ReplayBuffer (the audio a reconnect or fallback replays)', () => {
  it('keeps the last 10 s, in order, across many compactions; clear empties it', () => {
    const buffer = new ReplayBuffer(16000, 10_000);
    for (let i = 0; i < 3000; i++) buffer.push(new Int16Array(320).fill(i % 30000)); // 60 s of 20 ms frames
    const kept = [...buffer];
    expect(kept).toHaveLength(500);
    expect(kept[0]?.[0]).toBe(2500);
    expect(kept.at(-1)?.[0]).toBe(2999);
    buffer.clear();
    expect([...buffer]).toHaveLength(0);
  });
});
