/**
 * Tiny sherpa-onnx models for tests, written as real ONNX files (see `onnx-writer.ts`): the
 * genuine loading, feeding, decoding and synthesis code runs without downloading weights.
 *
 * - `writeToneCtcModel`: a NeMo-CTC-shaped recogniser (`audio_signal` [N,80,T] + `length` →
 *   `logprobs` [N,T,3]) whose per-frame scores are how far the loudest low (mel bins 0-39) and
 *   high (40-79) filterbank energies stand above the frame's mean, against a fixed blank score:
 *   a tone is peaky, silence and noise are flat. A low tone burst (e.g. 300 Hz) decodes as
 *   "hello", a high one (e.g. 3000 Hz) as "world", silence or room noise as nothing.
 * - `writeStreamingToneCtcModel`: the same as a streaming (cache-aware) NeMo CTC model, for
 *   sherpa's online recogniser: partials, endpoints.
 * - `writePiperVitsModel`: a Piper-shaped voice phonemised by espeak-ng (real espeak data).
 * - `writeKokoroModel`: a Kokoro-shaped voice (voices.bin, espeak-ng phonemes).
 * - `writeCharacterVitsModel`: a VITS-shaped synthesiser with sherpa's character frontend
 *   (tokens.txt only, no lexicon or espeak data): each character becomes `SAMPLES_PER_TOKEN`
 *   samples of a sine whose amplitude follows the token id, stretched by `length_scale`
 *   (so `speed` changes the length).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeOnnxModel, type OnnxNode, type OnnxTensor, OnnxType } from './onnx-writer.js';

export const SAMPLES_PER_TOKEN = 256;
const BLANK_SCORE = 6;
export const VITS_SAMPLE_RATE = 22050;

/** The tone scoring graph: `audio_signal` [N,80,T] → `logprobs` [N,T,3] (hello, world, blank). */
const TONE_SCORING: { initializers: OnnxTensor[]; nodes: OnnxNode[] } = {
  initializers: [
    { name: 'zero', elemType: OnnxType.INT64, dims: [1], values: [0] },
    { name: 'forty', elemType: OnnxType.INT64, dims: [1], values: [40] },
    { name: 'eighty', elemType: OnnxType.INT64, dims: [1], values: [80] },
    { name: 'axis1', elemType: OnnxType.INT64, dims: [1], values: [1] },
    { name: 'fzero', elemType: OnnxType.FLOAT, dims: [], values: [0] },
    // A tone's loudest bin stands ~10 (natural log) above the frame mean; flat frames ~0-3.
    { name: 'blank_score', elemType: OnnxType.FLOAT, dims: [], values: [BLANK_SCORE] },
  ],
  nodes: [
    { opType: 'Slice', inputs: ['audio_signal', 'zero', 'forty', 'axis1'], outputs: ['low'] },
    { opType: 'Slice', inputs: ['audio_signal', 'forty', 'eighty', 'axis1'], outputs: ['high'] },
    { opType: 'ReduceMax', inputs: ['low'], outputs: ['low_max'], attributes: { axes: [1], keepdims: 1 } },
    { opType: 'ReduceMax', inputs: ['high'], outputs: ['high_max'], attributes: { axes: [1], keepdims: 1 } },
    {
      opType: 'ReduceMean',
      inputs: ['audio_signal'],
      outputs: ['mean'],
      attributes: { axes: [1], keepdims: 1 },
    },
    { opType: 'Sub', inputs: ['low_max', 'mean'], outputs: ['low_peak'] },
    { opType: 'Sub', inputs: ['high_max', 'mean'], outputs: ['high_peak'] },
    { opType: 'Mul', inputs: ['low_max', 'fzero'], outputs: ['zeros'] },
    { opType: 'Add', inputs: ['zeros', 'blank_score'], outputs: ['blank'] },
    {
      opType: 'Concat',
      inputs: ['low_peak', 'high_peak', 'blank'],
      outputs: ['scores'],
      attributes: { axis: 1 },
    },
    { opType: 'Transpose', inputs: ['scores'], outputs: ['logits'], attributes: { perm: [0, 2, 1] } },
    { opType: 'LogSoftmax', inputs: ['logits'], outputs: ['logprobs'], attributes: { axis: -1 } },
  ],
};

const TONE_TOKENS = '▁hello 0\n▁world 1\n<blk> 2\n';

/** Writes `<dir>/model.onnx` + `tokens.txt`; returns the model file's size in bytes. */
export async function writeToneCtcModel(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const bytes = encodeOnnxModel({
    inputs: [
      { name: 'audio_signal', elemType: OnnxType.FLOAT, shape: ['N', 80, 'T'] },
      { name: 'length', elemType: OnnxType.INT64, shape: ['N'] },
    ],
    outputs: [{ name: 'logprobs', elemType: OnnxType.FLOAT, shape: ['N', 'T', 3] }],
    ...TONE_SCORING,
    metadata: {
      model_type: 'EncDecCTCModelBPE',
      vocab_size: 3,
      subsampling_factor: 1,
      normalize_type: '',
      is_giga_am: 0,
    },
  });
  await writeFile(join(dir, 'model.onnx'), bytes);
  await writeFile(join(dir, 'tokens.txt'), TONE_TOKENS);
  return bytes.length;
}

/**
 * The same scoring as a streaming (cache-aware) NeMo CTC model: chunks of 8 feature frames
 * (80 ms), caches passed through unchanged. Sherpa's online recogniser decodes it chunk by
 * chunk, so partials appear while audio arrives and its endpointing ends utterances.
 */
export async function writeStreamingToneCtcModel(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const cache = (name: string) => ({ name, elemType: OnnxType.FLOAT, shape: ['N', 1, 1, 1] as const });
  const bytes = encodeOnnxModel({
    inputs: [
      { name: 'audio_signal', elemType: OnnxType.FLOAT, shape: ['N', 80, 'T'] },
      { name: 'length', elemType: OnnxType.INT64, shape: ['N'] },
      cache('cache_last_channel'),
      cache('cache_last_time'),
      { name: 'cache_last_channel_len', elemType: OnnxType.INT64, shape: ['N'] },
    ],
    outputs: [
      { name: 'logprobs', elemType: OnnxType.FLOAT, shape: ['N', 'T', 3] },
      { name: 'encoded_lengths', elemType: OnnxType.INT64, shape: ['N'] },
      cache('cache_last_channel_next'),
      cache('cache_last_time_next'),
      { name: 'cache_last_channel_len_next', elemType: OnnxType.INT64, shape: ['N'] },
    ],
    initializers: TONE_SCORING.initializers,
    nodes: [
      ...TONE_SCORING.nodes,
      { opType: 'Identity', inputs: ['length'], outputs: ['encoded_lengths'] },
      { opType: 'Identity', inputs: ['cache_last_channel'], outputs: ['cache_last_channel_next'] },
      { opType: 'Identity', inputs: ['cache_last_time'], outputs: ['cache_last_time_next'] },
      { opType: 'Identity', inputs: ['cache_last_channel_len'], outputs: ['cache_last_channel_len_next'] },
    ],
    metadata: {
      window_size: 8,
      chunk_shift: 8,
      subsampling_factor: 1,
      // NeMo counts the vocabulary without the blank.
      vocab_size: 2,
      cache_last_channel_dim1: 1,
      cache_last_channel_dim2: 1,
      cache_last_channel_dim3: 1,
      cache_last_time_dim1: 1,
      cache_last_time_dim2: 1,
      cache_last_time_dim3: 1,
    },
  });
  await writeFile(join(dir, 'model.onnx'), bytes);
  await writeFile(join(dir, 'tokens.txt'), TONE_TOKENS);
  return bytes.length;
}

const VITS_CHARS = " abcdefghijklmnopqrstuvwxyz.,!?'";

/** Writes `<dir>/model.onnx` + `tokens.txt`; returns the model file's size in bytes. */
export async function writeCharacterVitsModel(
  dir: string,
  options: { speakers?: number } = {},
): Promise<number> {
  await mkdir(dir, { recursive: true });
  const table = Array.from(
    { length: SAMPLES_PER_TOKEN },
    (_, k) => Math.sin((2 * Math.PI * k * 8) / SAMPLES_PER_TOKEN) * 0.02,
  );
  const bytes = encodeOnnxModel({
    inputs: [
      { name: 'x', elemType: OnnxType.INT64, shape: [1, 'N'] },
      { name: 'x_length', elemType: OnnxType.INT64, shape: [1] },
      { name: 'noise_scale', elemType: OnnxType.FLOAT, shape: [1] },
      { name: 'length_scale', elemType: OnnxType.FLOAT, shape: [1] },
      { name: 'noise_scale_w', elemType: OnnxType.FLOAT, shape: [1] },
      { name: 'sid', elemType: OnnxType.INT64, shape: [1] },
    ],
    outputs: [{ name: 'y', elemType: OnnxType.FLOAT, shape: [1, 1, 'T'] }],
    initializers: [
      { name: 'shape_n1', elemType: OnnxType.INT64, dims: [3], values: [1, -1, 1] },
      { name: 'expand_to', elemType: OnnxType.INT64, dims: [3], values: [1, 1, SAMPLES_PER_TOKEN] },
      { name: 'table', elemType: OnnxType.FLOAT, dims: [SAMPLES_PER_TOKEN], values: table },
      { name: 'shape_out', elemType: OnnxType.INT64, dims: [3], values: [1, 1, -1] },
      { name: 'ones2', elemType: OnnxType.FLOAT, dims: [2], values: [1, 1] },
    ],
    nodes: [
      { opType: 'Cast', inputs: ['x'], outputs: ['xf'], attributes: { to: OnnxType.FLOAT } },
      { opType: 'Reshape', inputs: ['xf', 'shape_n1'], outputs: ['x3'] },
      { opType: 'Expand', inputs: ['x3', 'expand_to'], outputs: ['xe'] },
      { opType: 'Mul', inputs: ['xe', 'table'], outputs: ['wave'] },
      { opType: 'Reshape', inputs: ['wave', 'shape_out'], outputs: ['flat'] },
      { opType: 'Concat', inputs: ['ones2', 'length_scale'], outputs: ['scales'], attributes: { axis: 0 } },
      { opType: 'Resize', inputs: ['flat', '', 'scales'], outputs: ['y'], attributes: { mode: 'nearest' } },
    ],
    metadata: {
      model_type: 'vits',
      comment: 'parley test model',
      language: 'English',
      voice: 'en-us',
      sample_rate: VITS_SAMPLE_RATE,
      add_blank: 0,
      n_speakers: options.speakers ?? 2,
      frontend: 'characters',
      punctuation: '',
      blank_id: 0,
      bos_id: 0,
      eos_id: 0,
      use_eos_bos: 0,
      pad_id: 0,
    },
  });
  await writeFile(join(dir, 'model.onnx'), bytes);
  const tokens = ['_ 0', ...[...VITS_CHARS].map((c, i) => `${c} ${i + 1}`)];
  await writeFile(join(dir, 'tokens.txt'), `${tokens.join('\n')}\n`);
  return bytes.length;
}

/** Piper's phoneme symbols (a subset of IPA; sherpa skips phonemes missing from tokens.txt). */
const PIPER_PHONEMES =
  "_^$ !'(),-.:;?abcdefhijklmnopqrstuvwxyzæçðøħŋœǀǁǂǃɐɑɒɓɔɕɖɗɘəɚɛɜɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌʍʎʏʐʑʒʔʕʘʙʛʜʝʟʡʢʲˈˌːˑ˞βθχᵻⱱ";

/**
 * A Piper-shaped VITS voice (`input`, `input_lengths`, `scales` → `output`; metadata comment
 * `piper`): sherpa phonemises the text with espeak-ng (the voice's `espeak-ng-data/`, or the
 * provider's `espeakDataDir`), then each phoneme id becomes `SAMPLES_PER_TOKEN` samples, stretched
 * by the length scale (`scales[1]`). Returns the model file's size in bytes.
 */
export async function writePiperVitsModel(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const table = Array.from(
    { length: SAMPLES_PER_TOKEN },
    (_, k) => Math.sin((2 * Math.PI * k * 8) / SAMPLES_PER_TOKEN) * 0.005,
  );
  const bytes = encodeOnnxModel({
    inputs: [
      { name: 'input', elemType: OnnxType.INT64, shape: [1, 'N'] },
      { name: 'input_lengths', elemType: OnnxType.INT64, shape: [1] },
      { name: 'scales', elemType: OnnxType.FLOAT, shape: [3] },
    ],
    outputs: [{ name: 'output', elemType: OnnxType.FLOAT, shape: [1, 1, 'T'] }],
    initializers: [
      { name: 'shape_n1', elemType: OnnxType.INT64, dims: [3], values: [1, -1, 1] },
      { name: 'expand_to', elemType: OnnxType.INT64, dims: [3], values: [1, 1, SAMPLES_PER_TOKEN] },
      { name: 'table', elemType: OnnxType.FLOAT, dims: [SAMPLES_PER_TOKEN], values: table },
      { name: 'shape_out', elemType: OnnxType.INT64, dims: [3], values: [1, 1, -1] },
      { name: 'ones2', elemType: OnnxType.FLOAT, dims: [2], values: [1, 1] },
      { name: 'one', elemType: OnnxType.INT64, dims: [1], values: [1] },
      { name: 'two', elemType: OnnxType.INT64, dims: [1], values: [2] },
    ],
    nodes: [
      { opType: 'Cast', inputs: ['input'], outputs: ['xf'], attributes: { to: OnnxType.FLOAT } },
      { opType: 'Reshape', inputs: ['xf', 'shape_n1'], outputs: ['x3'] },
      { opType: 'Expand', inputs: ['x3', 'expand_to'], outputs: ['xe'] },
      { opType: 'Mul', inputs: ['xe', 'table'], outputs: ['wave'] },
      { opType: 'Reshape', inputs: ['wave', 'shape_out'], outputs: ['flat'] },
      { opType: 'Slice', inputs: ['scales', 'one', 'two'], outputs: ['length_scale'] },
      {
        opType: 'Concat',
        inputs: ['ones2', 'length_scale'],
        outputs: ['resize_scales'],
        attributes: { axis: 0 },
      },
      {
        opType: 'Resize',
        inputs: ['flat', '', 'resize_scales'],
        outputs: ['output'],
        attributes: { mode: 'nearest' },
      },
    ],
    metadata: {
      model_type: 'vits',
      comment: 'piper',
      language: 'English',
      voice: 'en-us',
      sample_rate: 16000,
      add_blank: 1,
      n_speakers: 1,
      punctuation: '',
    },
  });
  await writeFile(join(dir, 'model.onnx'), bytes);
  await writeFile(join(dir, 'tokens.txt'), `${[...PIPER_PHONEMES].map((c, i) => `${c} ${i}`).join('\n')}\n`);
  return bytes.length;
}

/** Kokoro's phoneme symbols (sherpa skips phonemes missing from tokens.txt). */
const KOKORO_PHONEMES =
  '$;:,.!?¡¿—…"«»“” ()AIOQSTWYᵊabcdefhijklmnopqrstuvwxyzɑɐɒæβɔɕçɖðʤəɚɛɜɟɡɥɨɪʝɯɰŋɳɲɴøɸθœɹɾɻʁɽʂʃʈʧʊʋʌɣɤχʎʒʔˈˌːʰʲ↓→↗↘ᵻ';
export const KOKORO_SAMPLE_RATE = 24000;

/**
 * A Kokoro-shaped voice (`tokens`, `style`, `speed` → `audio`) with `voices.bin` for
 * `speakers` speakers and a token limit of 64 (sherpa splits longer sentences): each phoneme
 * id becomes `SAMPLES_PER_TOKEN` samples. The voice's `espeak-ng-data/` must be supplied
 * (or the provider's `espeakDataDir`). Returns the model file's size in bytes.
 */
export async function writeKokoroModel(dir: string, options: { speakers?: number } = {}): Promise<number> {
  await mkdir(dir, { recursive: true });
  const maxTokens = 64;
  const styleDim = 4;
  const speakers = options.speakers ?? 2;
  const table = Array.from(
    { length: SAMPLES_PER_TOKEN },
    (_, k) => Math.sin((2 * Math.PI * k * 8) / SAMPLES_PER_TOKEN) * 0.005,
  );
  const bytes = encodeOnnxModel({
    inputs: [
      { name: 'tokens', elemType: OnnxType.INT64, shape: [1, 'N'] },
      { name: 'style', elemType: OnnxType.FLOAT, shape: [1, styleDim] },
      { name: 'speed', elemType: OnnxType.FLOAT, shape: [1] },
    ],
    outputs: [{ name: 'audio', elemType: OnnxType.FLOAT, shape: ['T'] }],
    initializers: [
      { name: 'shape_n1', elemType: OnnxType.INT64, dims: [2], values: [-1, 1] },
      { name: 'expand_to', elemType: OnnxType.INT64, dims: [2], values: [1, SAMPLES_PER_TOKEN] },
      { name: 'table', elemType: OnnxType.FLOAT, dims: [SAMPLES_PER_TOKEN], values: table },
      { name: 'shape_out', elemType: OnnxType.INT64, dims: [1], values: [-1] },
    ],
    nodes: [
      { opType: 'Cast', inputs: ['tokens'], outputs: ['xf'], attributes: { to: OnnxType.FLOAT } },
      { opType: 'Reshape', inputs: ['xf', 'shape_n1'], outputs: ['x2'] },
      { opType: 'Expand', inputs: ['x2', 'expand_to'], outputs: ['xe'] },
      { opType: 'Mul', inputs: ['xe', 'table'], outputs: ['wave'] },
      { opType: 'Reshape', inputs: ['wave', 'shape_out'], outputs: ['audio'] },
    ],
    metadata: {
      model_type: 'kokoro',
      sample_rate: KOKORO_SAMPLE_RATE,
      n_speakers: speakers,
      has_espeak: 1,
      voice: 'en-us',
      version: 1,
      language: 'English',
      style_dim: `${maxTokens},1,${styleDim}`,
      speaker_names: Array.from({ length: speakers }, (_, i) => `speaker${i}`).join(','),
    },
  });
  await writeFile(join(dir, 'model.onnx'), bytes);
  await writeFile(
    join(dir, 'voices.bin'),
    new Uint8Array(new Float32Array(maxTokens * styleDim * speakers).fill(0.1).buffer),
  );
  await writeFile(join(dir, 'tokens.txt'), `${[...KOKORO_PHONEMES].map((c, i) => `${c} ${i}`).join('\n')}\n`);
  return bytes.length;
}

/** `model.onnx`-style files with metadata only (a one-node graph): for layout detection. */
export async function writeMetadataOnlyModel(
  path: string,
  metadata: Record<string, string | number>,
): Promise<void> {
  const bytes = encodeOnnxModel({
    inputs: [{ name: 'in', elemType: OnnxType.FLOAT, shape: [1] }],
    outputs: [{ name: 'out', elemType: OnnxType.FLOAT, shape: [1] }],
    nodes: [{ opType: 'Identity', inputs: ['in'], outputs: ['out'] }],
    metadata,
  });
  await writeFile(path, bytes);
}

/**
 * Mono PCM16 at `sampleRate`: `leadMs` of silence, then for each burst a sine at `hz` for
 * `ms`, followed by `gapMs` of silence. Low (≤ 1 kHz) bursts read "hello", high ones "world"
 * for `writeToneCtcModel`.
 */
export function toneBursts(
  sampleRate: number,
  bursts: readonly { hz: number; ms: number }[],
  options: { leadMs?: number; gapMs?: number; amplitude?: number } = {},
): Int16Array {
  const lead = Math.round(((options.leadMs ?? 200) * sampleRate) / 1000);
  const gap = Math.round(((options.gapMs ?? 300) * sampleRate) / 1000);
  const total = lead + bursts.reduce((n, b) => n + Math.round((b.ms * sampleRate) / 1000) + gap, 0);
  const out = new Int16Array(total);
  const amplitude = (options.amplitude ?? 0.3) * 32767;
  let at = lead;
  for (const b of bursts) {
    const n = Math.round((b.ms * sampleRate) / 1000);
    for (let i = 0; i < n; i++)
      out[at + i] = Math.round(amplitude * Math.sin((2 * Math.PI * b.hz * i) / sampleRate));
    at += n + gap;
  }
  return out;
}
