/**
 * sherpa-onnx STT with tiny ONNX models written by the test (src/testing/sherpa-models.ts): the
 * real addon loads them, computes features, runs onnxruntime and decodes CTC.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/shared/provider-error.js';
import { readOnnxMetadata } from '../../src/shared/sherpa-onnx/onnx-metadata.js';
import { createSherpaOnnxStt, detectSttModel } from '../../src/stt/sherpa-onnx/index.js';
import type { SttEvent, SttStream } from '../../src/stt/stt.js';
import {
  toneBursts,
  writeMetadataOnlyModel,
  writeStreamingToneCtcModel,
  writeToneCtcModel,
} from '../../src/testing/sherpa-models.js';

type Final = Extract<SttEvent, { type: 'final' }>;

let modelsDir: string;
let modelBytes = 0;
let streamingBytes = 0;
const never = new AbortController().signal;
const ctx = { type: 'stt_error' as const, provider: 'sherpa-onnx' };

beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'parley-sherpa-stt-'));
  modelBytes = await writeToneCtcModel(join(modelsDir, 'tone-ctc'));
  streamingBytes = await writeStreamingToneCtcModel(join(modelsDir, 'streaming-tone-ctc'));
  await writeToneCtcModel(join(modelsDir, 'nested', 'tone-ctc'));
  // A NeMo-typed model without the metadata sherpa-onnx needs (it would exit the process).
  await mkdir(join(modelsDir, 'no-vocab'), { recursive: true });
  await writeMetadataOnlyModel(join(modelsDir, 'no-vocab', 'model.onnx'), {
    model_type: 'EncDecCTCModelBPE',
  });
  await writeFile(join(modelsDir, 'no-vocab', 'tokens.txt'), 'a 0\n<blk> 1\n');
  await mkdir(join(modelsDir, 'garbage'), { recursive: true });
  await writeFile(
    join(modelsDir, 'garbage', 'model.onnx'),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x07]),
  );
  await writeFile(join(modelsDir, 'garbage', 'tokens.txt'), 'a 0\n');
  await mkdir(join(modelsDir, 'no-tokens'), { recursive: true });
  await writeToneCtcModel(join(modelsDir, 'no-tokens'));
  await rm(join(modelsDir, 'no-tokens', 'tokens.txt'));
});

afterAll(async () => {
  await rm(modelsDir, { recursive: true, force: true });
});

function pushFrames(stream: SttStream, audio: Int16Array, rate: number): void {
  const n = rate / 50;
  for (let i = 0; i < audio.length; i += n) stream.push(audio.subarray(i, Math.min(i + n, audio.length)));
}

async function collect(stream: SttStream): Promise<SttEvent[]> {
  const events: SttEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

async function firstError(model: string): Promise<ProviderError> {
  const stt = createSherpaOnnxStt({ modelsDir });
  const stream = stt.stream({ sampleRate: 16000, language: 'en-US', model }, never);
  stream.push(new Int16Array(320));
  const events = await collect(stream);
  const errors = events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
  expect(errors, JSON.stringify(events)).toHaveLength(1);
  const error = errors[0];
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('sherpa-onnx STT (offline NeMo CTC model)', () => {
  it.each([16000, 8000] as const)(
    'decodes tone bursts at %i Hz into the known tokens, with offsets',
    async (rate) => {
      const stt = createSherpaOnnxStt({ modelsDir });
      const stream = stt.stream({ sampleRate: rate, language: 'en-US', model: 'tone-ctc' }, never);
      const before = Date.now();
      // 200 ms lead-in, 300 ms low tone ("hello"), 300 ms gap, 300 ms high tone ("world"), 300 ms.
      pushFrames(
        stream,
        toneBursts(rate, [
          { hz: 300, ms: 300 },
          { hz: 3000, ms: 300 },
        ]),
        rate,
      );
      stream.flush();
      const iterator = stream[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      const final = first.value as Final;
      expect(final).toMatchObject({ type: 'final', text: 'hello world' });
      // The first token is the low burst at 200 ms (one 10 ms feature frame of slack each way).
      expect(final.startOffsetMs).toBeGreaterThanOrEqual(180);
      expect(final.startOffsetMs).toBeLessThanOrEqual(220);
      expect(final.endOffsetMs).toBe(1400);
      expect(final.timestampMs).toBeGreaterThanOrEqual(before);
      expect(final.confidence).toBeUndefined();
      await stream.close();
      expect((await iterator.next()).done).toBe(true);
    },
  );

  it('finalises each flushed utterance in order, offsets on the stream clock', async () => {
    const stt = createSherpaOnnxStt({ modelsDir });
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US', model: 'tone-ctc' }, never);
    pushFrames(stream, toneBursts(16000, [{ hz: 3000, ms: 200 }]), 16000); // 700 ms
    stream.flush();
    pushFrames(stream, toneBursts(16000, [{ hz: 400, ms: 200 }]), 16000); // 700 ms more
    stream.flush();
    const closing = stream.close();
    const events = await collect(stream);
    await closing;
    const finals = events.filter((e): e is Final => e.type === 'final');
    expect(finals.map((f) => f.text)).toEqual(['world', 'hello']);
    expect(finals[0]?.endOffsetMs).toBe(700);
    expect(finals[1]?.startOffsetMs).toBeGreaterThanOrEqual(880);
    expect(finals[1]?.endOffsetMs).toBe(1400);
  });

  it('silence gives no final; close() decodes the utterance in progress', async () => {
    const stt = createSherpaOnnxStt({ modelsDir });
    const quiet = stt.stream({ sampleRate: 16000, language: 'en-US', model: 'tone-ctc' }, never);
    pushFrames(quiet, new Int16Array(16000), 16000);
    quiet.flush();
    const closingQuiet = quiet.close();
    expect(await collect(quiet)).toEqual([]);
    await closingQuiet;

    const stream = stt.stream({ sampleRate: 16000, language: 'en-US', model: 'tone-ctc' }, never);
    pushFrames(stream, toneBursts(16000, [{ hz: 300, ms: 200 }]), 16000);
    const closing = stream.close();
    const events = await collect(stream);
    await closing;
    expect(events.map((e) => (e.type === 'final' ? e.text : e.type))).toEqual(['hello']);
  });

  it('caps an utterance at maxUtteranceMs without a flush', async () => {
    const stt = createSherpaOnnxStt({ modelsDir, maxUtteranceMs: 1000 });
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US', model: 'tone-ctc' }, never);
    // Three 1 s blocks, each one low burst: cut into three utterances of at most 1 s.
    for (let i = 0; i < 3; i++) {
      pushFrames(stream, toneBursts(16000, [{ hz: 300, ms: 300 }], { leadMs: 300, gapMs: 400 }), 16000);
    }
    const closing = stream.close();
    const finals = (await collect(stream)).filter((e): e is Final => e.type === 'final');
    await closing;
    expect(finals.map((f) => f.text)).toEqual(['hello', 'hello', 'hello']);
    for (const f of finals) expect(f.endOffsetMs - f.startOffsetMs).toBeLessThanOrEqual(1000);
    expect(finals.map((f) => f.endOffsetMs)).toEqual([1000, 2000, 3000]);
  });

  it('loads a model once per process and shares it between streams and providers', async () => {
    const a = createSherpaOnnxStt({ modelsDir });
    const b = createSherpaOnnxStt({ modelsDir });
    const [first, second] = await Promise.all([a.load('tone-ctc'), b.load('tone-ctc')]);
    expect(first).toBe(second);
    expect(first.layout.kind).toBe('offline-nemo-ctc');
    expect(first.offline).toBeDefined();
    // A name with sub-directories inside modelsDir is fine.
    expect((await a.load('nested/tone-ctc')).layout.kind).toBe('offline-nemo-ctc');
    console.info(`sherpa-onnx STT tone-ctc: ${modelBytes} bytes, loaded in ${first.loadMs.toFixed(1)} ms`);
  });

  it('an abort ends the iteration at once, with no error', async () => {
    const stt = createSherpaOnnxStt({ modelsDir });
    const controller = new AbortController();
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US', model: 'tone-ctc' }, controller.signal);
    pushFrames(stream, toneBursts(16000, [{ hz: 300, ms: 300 }]), 16000);
    stream.flush();
    controller.abort();
    expect(await collect(stream)).toEqual([]);
    expect(() => stream.push(new Int16Array(320))).not.toThrow();
    await stream.close();
  });
});

describe('sherpa-onnx STT (streaming NeMo CTC model)', () => {
  it.each([16000, 8000] as const)(
    '%i Hz: partials while audio arrives, a final at the endpoint, another on flush',
    async (rate) => {
      const stt = createSherpaOnnxStt({ modelsDir });
      const loaded = await stt.load('streaming-tone-ctc');
      expect(loaded.layout).toMatchObject({ kind: 'online-nemo-ctc', streaming: true });
      const stream = stt.stream({ sampleRate: rate, language: 'en-US', model: 'streaming-tone-ctc' }, never);
      // "hello" at 200-500 ms, 1.2 s of silence (long enough for sherpa's endpoint rule 2),
      // "world" at 1700-2000 ms, then 300 ms; flush.
      pushFrames(
        stream,
        toneBursts(
          rate,
          [
            { hz: 300, ms: 300 },
            { hz: 3000, ms: 300 },
          ],
          { gapMs: 1200 },
        ),
        rate,
      );
      stream.flush();
      const closing = stream.close();
      const events = await collect(stream);
      await closing;
      expect(events.map((e) => `${e.type}:${e.type === 'error' ? e.error.code : e.text}`)).toEqual([
        'partial:hello',
        'final:hello',
        'partial:world',
        'final:world',
      ]);
      const [hello, world] = events.filter((e): e is Final => e.type === 'final');
      // Bounds on the caller's clock (flush padding taken out), in 80 ms decoding chunks.
      expect(hello?.startOffsetMs).toBe(0);
      expect(hello?.endOffsetMs).toBeGreaterThanOrEqual(900);
      expect(hello?.endOffsetMs).toBeLessThanOrEqual(1700);
      expect(world?.startOffsetMs).toBe(hello?.endOffsetMs);
      // Ended by the endpoint inside the flush padding's silence, or by the flush itself.
      expect(world?.endOffsetMs).toBeGreaterThanOrEqual(2000);
      expect(world?.endOffsetMs).toBeLessThanOrEqual(2300);
    },
  );

  it('flushes back to back end separate utterances (decoding lags behind pushing)', async () => {
    const stt = createSherpaOnnxStt({ modelsDir });
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US', model: 'streaming-tone-ctc' }, never);
    // Five 400 ms utterances, alternately high and low, each flushed at once.
    for (let i = 0; i < 5; i++) {
      const hz = i % 2 === 0 ? 3000 : 300;
      pushFrames(stream, toneBursts(16000, [{ hz, ms: 200 }], { gapMs: 0 }), 16000);
      stream.flush();
    }
    // close() twice: both resolve once the stream has finished.
    const closing = Promise.all([stream.close(), stream.close()]);
    const finals = (await collect(stream)).filter((e): e is Final => e.type === 'final');
    await closing;
    expect(finals.map((f) => [f.text, f.startOffsetMs, f.endOffsetMs])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i % 2 === 0 ? 'world' : 'hello', i * 400, (i + 1) * 400]),
    );
    const loaded = await stt.load('streaming-tone-ctc');
    console.info(
      `sherpa-onnx STT streaming-tone-ctc: ${streamingBytes} bytes, loaded in ${loaded.loadMs.toFixed(1)} ms`,
    );
  });
});

describe('sherpa-onnx STT model names and files', () => {
  it.each(['../tone-ctc', '/etc', 'nested/../../x', 'a/./b', 'sp ace', ''])(
    'refuses the model name %j as invalid_model (not retryable)',
    async (name) => {
      const error = await firstError(name);
      expect(error).toMatchObject({
        type: 'stt_error',
        code: 'invalid_model',
        retryable: false,
        provider: 'sherpa-onnx',
      });
    },
  );

  it('a missing model directory or tokens.txt is model_missing', async () => {
    expect(await firstError('absent')).toMatchObject({ code: 'model_missing', retryable: false });
    expect(await firstError('no-tokens')).toMatchObject({ code: 'model_missing', retryable: false });
  });

  it('refuses a model without the metadata sherpa-onnx needs (which would end the process)', async () => {
    const error = await firstError('no-vocab');
    expect(error.code).toBe('invalid_model');
    expect(error.message).toContain('vocab_size');
    expect(await firstError('garbage')).toMatchObject({ code: 'invalid_model', retryable: false });
  });

  it('reads ONNX metadata without loading the model', async () => {
    const meta = await readOnnxMetadata(join(modelsDir, 'tone-ctc', 'model.onnx'));
    expect(Object.fromEntries(meta)).toMatchObject({
      model_type: 'EncDecCTCModelBPE',
      vocab_size: '3',
      subsampling_factor: '1',
      normalize_type: '',
    });
  });

  it('detects transducer (streaming or not) and Whisper layouts from files and metadata', async () => {
    const dir = join(modelsDir, 'layouts');
    const make = async (name: string, files: Record<string, Record<string, string | number>>) => {
      await mkdir(join(dir, name), { recursive: true });
      await writeFile(join(dir, name, 'tokens.txt'), '<blk> 0\n');
      for (const [file, meta] of Object.entries(files))
        await writeMetadataOnlyModel(join(dir, name, file), meta);
      return join(dir, name);
    };
    const streaming = await make('zipformer', {
      'encoder.onnx': { model_type: 'zipformer2', T: 45, decode_chunk_len: 32 },
      'decoder.int8.onnx': { context_size: 2 },
      'joiner.onnx': {},
    });
    const online = await detectSttModel(streaming, 'zipformer', ctx);
    expect(online).toMatchObject({ kind: 'online-transducer', streaming: true });
    expect(online.modelConfig).toMatchObject({
      transducer: { decoder: join(streaming, 'decoder.int8.onnx') },
    });

    const offline = await make('offline-transducer', {
      'encoder.onnx': { model_type: 'zipformer' },
      'decoder.onnx': { context_size: 2 },
      'joiner.onnx': {},
    });
    expect(await detectSttModel(offline, 'o', ctx)).toMatchObject({
      kind: 'offline-transducer',
      streaming: false,
    });

    const whisper = await make('whisper', {
      'encoder.onnx': { n_text_layer: 4, n_text_ctx: 448, n_text_state: 384, n_vocab: 51864, sot: 1, eot: 2 },
      'decoder.onnx': {},
    });
    expect(await detectSttModel(whisper, 'w', ctx)).toMatchObject({
      kind: 'offline-whisper',
      streaming: false,
    });

    const badWhisper = await make('bad-whisper', { 'encoder.onnx': {}, 'decoder.onnx': {} });
    await expect(detectSttModel(badWhisper, 'bw', ctx)).rejects.toMatchObject({ code: 'invalid_model' });
    const badDecoder = await make('bad-transducer', {
      'encoder.onnx': { T: 1 },
      'decoder.onnx': {},
      'joiner.onnx': {},
    });
    await expect(detectSttModel(badDecoder, 'bt', ctx)).rejects.toMatchObject({ code: 'invalid_model' });
    const unknown = await make('unknown', { 'model.onnx': { model_type: 'something_else' } });
    await expect(detectSttModel(unknown, 'u', ctx)).rejects.toMatchObject({ code: 'invalid_model' });
  });
});
