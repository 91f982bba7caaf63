/**
 * sherpa-onnx TTS with a tiny VITS model written by the test (src/testing/sherpa-models.ts): the
 * real addon loads it, runs its character frontend and onnxruntime, one sentence at a time.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../../src/audio/resampler.js';
import { ProviderError } from '../../src/shared/provider-error.js';
import {
  SAMPLES_PER_TOKEN,
  VITS_SAMPLE_RATE,
  writeCharacterVitsModel,
  writeKokoroModel,
  writeMetadataOnlyModel,
  writePiperVitsModel,
} from '../../src/testing/sherpa-models.js';
import { createSherpaOnnxTts, detectTtsVoice } from '../../src/tts/sherpa-onnx/index.js';
import type { TtsOptions } from '../../src/tts/tts.js';

let modelsDir: string;
let modelBytes = 0;
const never = new AbortController().signal;
const ctx = { type: 'tts_error' as const, provider: 'sherpa-onnx' };
const CHARS = " abcdefghijklmnopqrstuvwxyz.,!?'";
/** Debian's espeak-ng data (package espeak-ng-data, installed with espeak-ng). */
const SYSTEM_ESPEAK_DATA = [
  '/usr/lib/x86_64-linux-gnu/espeak-ng-data',
  '/usr/lib/aarch64-linux-gnu/espeak-ng-data',
  '/usr/share/espeak-ng-data',
].find((d) => existsSync(join(d, 'phontab')));
let piperBytes = 0;
let kokoroBytes = 0;

beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'parley-sherpa-tts-'));
  modelBytes = await writeCharacterVitsModel(join(modelsDir, 'chars'));
  await mkdir(join(modelsDir, 'no-rate'), { recursive: true });
  await writeMetadataOnlyModel(join(modelsDir, 'no-rate', 'model.onnx'), {
    comment: 'x',
    n_speakers: 1,
    language: 'English',
  });
  await writeFile(join(modelsDir, 'no-rate', 'tokens.txt'), 'a 0\n');
  piperBytes = await writePiperVitsModel(join(modelsDir, 'piper'));
  await writePiperVitsModel(join(modelsDir, 'piper-own-data'));
  if (SYSTEM_ESPEAK_DATA)
    await symlink(SYSTEM_ESPEAK_DATA, join(modelsDir, 'piper-own-data', 'espeak-ng-data'));
  kokoroBytes = await writeKokoroModel(join(modelsDir, 'kokoro'));
  await writeKokoroModel(join(modelsDir, 'kokoro-bad-voices'));
  await writeFile(join(modelsDir, 'kokoro-bad-voices', 'voices.bin'), new Uint8Array(12));
});

afterAll(async () => {
  await rm(modelsDir, { recursive: true, force: true });
});

async function synth(text: string, options: Partial<TtsOptions> = {}, signal = never): Promise<Int16Array[]> {
  const tts = createSherpaOnnxTts({ modelsDir, defaultModel: 'chars' });
  const chunks: Int16Array[] = [];
  for await (const c of tts.synthesize(text, { sampleRate: 16000, ...options }, signal)) chunks.push(c);
  return chunks;
}

function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What the test model outputs for `text` at its own rate (speed 1), as PCM16. */
function modelOutput(text: string): Int16Array {
  const ids = [...text.toLowerCase()].map((c) => CHARS.indexOf(c) + 1);
  const out = new Int16Array(ids.length * SAMPLES_PER_TOKEN);
  ids.forEach((id, t) => {
    for (let k = 0; k < SAMPLES_PER_TOKEN; k++) {
      const v = Math.fround(id * Math.fround(Math.sin((2 * Math.PI * k * 8) / SAMPLES_PER_TOKEN) * 0.02));
      out[t * SAMPLES_PER_TOKEN + k] = Math.round(v * 32767);
    }
  });
  return out;
}

async function failure(text: string, options: Partial<TtsOptions>): Promise<ProviderError> {
  try {
    await synth(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

describe('sherpa-onnx TTS (VITS, character frontend)', () => {
  it('synthesises the model output resampled to the requested rate', async () => {
    const text = 'hello there';
    const atModelRate = modelOutput(text);
    for (const rate of [16000, 8000] as const) {
      const audio = concat(await synth(text, { sampleRate: rate }));
      const expected = resample(atModelRate, VITS_SAMPLE_RATE, rate);
      expect(audio.length).toBe(expected.length);
      // The model computes in float32: allow one step of rounding.
      let maxDiff = 0;
      for (let i = 0; i < audio.length; i++)
        maxDiff = Math.max(maxDiff, Math.abs((audio[i] ?? 0) - (expected[i] ?? 0)));
      expect(maxDiff).toBeLessThanOrEqual(1);
      expect(audio.some((s) => Math.abs(s) > 100)).toBe(true);
    }
  });

  it('streams one chunk per sentence', async () => {
    const chunks = await synth('Hello there. How are you? Fine!');
    // 12, 13 and 6 characters (the spaces between sentences stay with the next one).
    const expected = [12, 13, 6].map((n) => (n * SAMPLES_PER_TOKEN * 16000) / VITS_SAMPLE_RATE);
    expect(chunks).toHaveLength(3);
    chunks.forEach((c, i) => {
      expect(Math.abs(c.length - (expected[i] ?? 0))).toBeLessThanOrEqual(1);
    });
  });

  it('speed changes the length through length_scale; out of range is invalid_speed', async () => {
    const normal = concat(await synth('abcd')).length;
    const fast = concat(await synth('abcd', { speed: 2 })).length;
    const slow = concat(await synth('abcd', { speed: 0.5 })).length;
    expect(fast).toBeCloseTo(normal / 2, -1);
    expect(slow).toBeCloseTo(normal * 2, -1);
    expect(await failure('abcd', { speed: 5 })).toMatchObject({ code: 'invalid_speed', retryable: false });
  });

  it('voice is a speaker id below the model speaker count', async () => {
    expect(concat(await synth('abc', { voice: '1' })).length).toBeGreaterThan(0);
    for (const voice of ['2', 'alice', '-1', '1.5']) {
      expect(await failure('abc', { voice })).toMatchObject({
        type: 'tts_error',
        code: 'invalid_voice',
        retryable: false,
      });
    }
  });

  it('empty text gives no audio; over-long text is text_too_long', async () => {
    expect(await synth('  ')).toEqual([]);
    const tts = createSherpaOnnxTts({ modelsDir, defaultModel: 'chars', maxTextChars: 10 });
    const run = async () => {
      for await (const _ of tts.synthesize('a'.repeat(11), { sampleRate: 16000 }, never)) {
        // nothing
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'text_too_long', retryable: false });
  });

  it('an abort after the first chunk stops quietly', async () => {
    const controller = new AbortController();
    const tts = createSherpaOnnxTts({ modelsDir, defaultModel: 'chars' });
    const chunks: Int16Array[] = [];
    for await (const c of tts.synthesize(
      'One. Two. Three. Four. Five.',
      { sampleRate: 8000 },
      controller.signal,
    )) {
      chunks.push(c);
      controller.abort();
    }
    expect(chunks).toHaveLength(1);
  });

  it('concurrent requests on one voice take turns and each gets its own audio', async () => {
    const texts = ['one. two.', 'three four.', 'five!'];
    const alone: Int16Array[] = [];
    for (const t of texts) alone.push(concat(await synth(t)));
    const together = await Promise.all(texts.map(async (t) => concat(await synth(t))));
    expect(together).toEqual(alone);
    expect(alone.map((a) => a.length)).toEqual(
      texts.map((t) => expect.closeTo((t.length * SAMPLES_PER_TOKEN * 16000) / VITS_SAMPLE_RATE, -0.5)),
    );
    // A request aborted while waiting for its turn ends quietly, without audio.
    const controller = new AbortController();
    const busy = synth('a long one. with two sentences.');
    const waiting = synth('never spoken', {}, controller.signal);
    controller.abort();
    expect(await waiting).toEqual([]);
    expect((await busy).length).toBe(2);
  });

  it('loads a voice once per process', async () => {
    const a = createSherpaOnnxTts({ modelsDir });
    const b = createSherpaOnnxTts({ modelsDir });
    const [first, second] = await Promise.all([a.load('chars'), b.load('chars')]);
    expect(first).toBe(second);
    expect(first.tts.sampleRate).toBe(VITS_SAMPLE_RATE);
    expect(first.tts.numSpeakers).toBe(2);
    const started = performance.now();
    const audio = concat(await synth('Hello, this is a short test of speech synthesis.'));
    console.info(
      `sherpa-onnx TTS chars voice: ${modelBytes} bytes, loaded in ${first.loadMs.toFixed(1)} ms, ` +
        `${(audio.length / 16).toFixed(0)} ms of audio in ${(performance.now() - started).toFixed(1)} ms`,
    );
  });
});

describe.skipIf(!SYSTEM_ESPEAK_DATA)(
  'sherpa-onnx TTS (Piper voice, espeak-ng phonemes; needs espeak-ng-data)',
  () => {
    async function piper(
      model: string,
      text: string,
      options: Partial<TtsOptions> = {},
    ): Promise<Int16Array[]> {
      const tts = createSherpaOnnxTts({
        modelsDir,
        ...(SYSTEM_ESPEAK_DATA ? { espeakDataDir: SYSTEM_ESPEAK_DATA } : {}),
      });
      const chunks: Int16Array[] = [];
      for await (const c of tts.synthesize(text, { sampleRate: 16000, model, ...options }, never))
        chunks.push(c);
      return chunks;
    }

    it('phonemises with espeak-ng and synthesises per sentence, deterministically', async () => {
      const started = performance.now();
      const chunks = await piper('piper', 'Hello world. How are you today?');
      const ms = performance.now() - started;
      expect(chunks).toHaveLength(2);
      const audio = concat(chunks);
      // Phonemes with blanks between them: far more tokens than letters would give.
      expect(audio.length).toBeGreaterThan(20 * SAMPLES_PER_TOKEN);
      expect(audio.some((v) => Math.abs(v) > 100)).toBe(true);
      expect(concat(await piper('piper', 'Hello world. How are you today?'))).toEqual(audio);
      const loaded = await createSherpaOnnxTts({ modelsDir, espeakDataDir: SYSTEM_ESPEAK_DATA }).load(
        'piper',
      );
      expect(loaded.layout.kind).toBe('vits-espeak');
      console.info(
        `sherpa-onnx TTS piper voice: ${piperBytes} bytes, loaded in ${loaded.loadMs.toFixed(1)} ms, ` +
          `${(audio.length / 16).toFixed(0)} ms of audio in ${ms.toFixed(1)} ms (first call, load included)`,
      );
    });

    it('speed reaches the model through its scales input', async () => {
      const normal = concat(await piper('piper', 'Good morning.')).length;
      const fast = concat(await piper('piper', 'Good morning.', { speed: 2 })).length;
      expect(Math.abs(fast - normal / 2)).toBeLessThanOrEqual(SAMPLES_PER_TOKEN);
    });

    it('a voice with its own espeak-ng-data/ needs no provider option', async () => {
      const tts = createSherpaOnnxTts({ modelsDir });
      const chunks: Int16Array[] = [];
      for await (const c of tts.synthesize('Hello.', { sampleRate: 8000, model: 'piper-own-data' }, never))
        chunks.push(c);
      expect(concat(chunks).length).toBeGreaterThan(0);
      // Without it (and without the option) a Piper voice is refused before sherpa sees it.
      await expect(
        (async () => {
          for await (const _ of createSherpaOnnxTts({ modelsDir }).synthesize(
            'Hi.',
            { sampleRate: 8000, model: 'piper' },
            never,
          )) {
            // nothing
          }
        })(),
      ).rejects.toMatchObject({ code: 'model_missing' });
    });
  },
);

describe.skipIf(!SYSTEM_ESPEAK_DATA)('sherpa-onnx TTS (Kokoro voice; needs espeak-ng-data)', () => {
  const tts = () =>
    createSherpaOnnxTts({ modelsDir, ...(SYSTEM_ESPEAK_DATA ? { espeakDataDir: SYSTEM_ESPEAK_DATA } : {}) });

  it('synthesises per sentence with a speaker id, resampled from 24 kHz', async () => {
    const provider = tts();
    const started = performance.now();
    const chunks: Int16Array[] = [];
    for await (const c of provider.synthesize(
      'Hello world. How are you?',
      { sampleRate: 8000, model: 'kokoro', voice: '1' },
      never,
    )) {
      chunks.push(c);
    }
    const ms = performance.now() - started;
    expect(chunks).toHaveLength(2);
    const audio = concat(chunks);
    expect(audio.some((v) => Math.abs(v) > 100)).toBe(true);
    const loaded = await provider.load('kokoro');
    expect(loaded.layout.kind).toBe('kokoro');
    expect(loaded.tts.sampleRate).toBe(24000);
    expect(loaded.tts.numSpeakers).toBe(2);
    console.info(
      `sherpa-onnx TTS kokoro voice: ${kokoroBytes} bytes, loaded in ${loaded.loadMs.toFixed(1)} ms, ` +
        `${(audio.length / 8).toFixed(0)} ms of audio in ${ms.toFixed(1)} ms (first call, load included)`,
    );
    await expect(
      (async () => {
        for await (const _ of provider.synthesize(
          'Hi.',
          { sampleRate: 8000, model: 'kokoro', voice: '2' },
          never,
        )) {
          // nothing
        }
      })(),
    ).rejects.toMatchObject({ code: 'invalid_voice' });
  });

  it('refuses a voices.bin that does not match the metadata (sherpa would exit)', async () => {
    await expect(tts().load('kokoro-bad-voices')).rejects.toMatchObject({
      code: 'invalid_model',
      retryable: false,
    });
  });
});

describe('sherpa-onnx TTS voice names and files', () => {
  it.each(['../chars', '/etc/passwd', 'x/../../y'])('refuses %j as invalid_model', async (model) => {
    expect(await failure('hi', { model })).toMatchObject({
      type: 'tts_error',
      code: 'invalid_model',
      retryable: false,
    });
  });

  it('a missing voice is model_missing; missing metadata is invalid_model (sherpa would exit)', async () => {
    expect(await failure('hi', { model: 'absent' })).toMatchObject({ code: 'model_missing' });
    const error = await failure('hi', { model: 'no-rate' });
    expect(error.code).toBe('invalid_model');
    expect(error.message).toContain('sample_rate');
  });

  it('detects Kokoro, Piper (espeak-ng-data) and lexicon VITS layouts', async () => {
    const vitsMeta = { sample_rate: 22050, n_speakers: 1, language: 'English', comment: 'piper' };
    const make = async (name: string, files: string[], dirs: string[] = []) => {
      const dir = join(modelsDir, 'layouts', name);
      await mkdir(dir, { recursive: true });
      await writeMetadataOnlyModel(join(dir, 'model.onnx'), vitsMeta);
      for (const f of ['tokens.txt', ...files]) await writeFile(join(dir, f), 'x\n');
      for (const d of dirs) await mkdir(join(dir, d), { recursive: true });
      return dir;
    };
    const kokoro = join(modelsDir, 'layouts', 'kokoro');
    await writeKokoroModel(kokoro);
    await mkdir(join(kokoro, 'espeak-ng-data'));
    await writeFile(join(kokoro, 'lexicon-us-en.txt'), 'hello h ə l oʊ\n');
    await writeFile(join(kokoro, 'lexicon-zh.txt'), '你 n i\n');
    expect(await detectTtsVoice(kokoro, 'k', ctx)).toMatchObject({
      kind: 'kokoro',
      modelConfig: {
        kokoro: {
          voices: join(kokoro, 'voices.bin'),
          dataDir: join(kokoro, 'espeak-ng-data'),
          lexicon: `${join(kokoro, 'lexicon-us-en.txt')},${join(kokoro, 'lexicon-zh.txt')}`,
        },
      },
    });
    expect((await detectTtsVoice(await make('piper', [], ['espeak-ng-data']), 'p', ctx)).kind).toBe(
      'vits-espeak',
    );
    expect((await detectTtsVoice(await make('lexicon', ['lexicon.txt']), 'l', ctx)).kind).toBe(
      'vits-lexicon',
    );
    await expect(detectTtsVoice(await make('bare', []), 'b', ctx)).rejects.toMatchObject({
      code: 'model_missing',
    });
    await expect(
      detectTtsVoice(await make('kokoro-no-data', ['voices.bin']), 'kd', ctx),
    ).rejects.toMatchObject({
      code: 'model_missing',
    });
  });
});
