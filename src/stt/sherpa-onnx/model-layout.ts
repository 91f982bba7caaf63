/**
 * What kind of sherpa-onnx recogniser a model directory holds, from the files present and the
 * models' metadata. Expected layouts (file names inside `<modelsDir>/<model>/`):
 *
 * - Streaming transducer (zipformer/zipformer2/conformer/lstm, e.g.
 *   `sherpa-onnx-streaming-zipformer-en-20M`): `encoder.onnx` `decoder.onnx` `joiner.onnx`
 *   `tokens.txt`, the encoder's metadata having `T` or `decode_chunk_len` → online recogniser,
 *   partials while audio arrives, finals on endpoint or flush.
 * - Non-streaming transducer: the same files without those keys → offline, one final per flush.
 * - Whisper: `encoder.onnx` `decoder.onnx` `tokens.txt` (no joiner) → offline.
 * - Streaming NeMo CTC (cache-aware FastConformer, e.g.
 *   `sherpa-onnx-nemo-streaming-fast-conformer-ctc-en-80ms`): `model.onnx` `tokens.txt`, the
 *   model's metadata having `window_size`, `chunk_shift` and the `cache_last_*` dims → online.
 * - NeMo CTC (`model_type` = `EncDecCTCModelBPE` in `model.onnx`): `model.onnx` `tokens.txt`
 *   → offline.
 *
 * Quantised files (`*.int8.onnx`) are used when the plain name is absent. Metadata keys that
 * sherpa-onnx requires are checked here first, because it exits the process on a missing one.
 */
import { join } from 'node:path';
import { type ModelErrorContext, modelError, presentFiles } from '../../shared/sherpa-onnx/model-dir.js';
import type { SherpaConfig } from '../../shared/sherpa-onnx/native.js';
import { missingKeys, readOnnxMetadata } from '../../shared/sherpa-onnx/onnx-metadata.js';

export type SttModelKind =
  | 'online-transducer'
  | 'online-nemo-ctc'
  | 'offline-transducer'
  | 'offline-whisper'
  | 'offline-nemo-ctc';

const ONLINE_NEMO_CTC_KEYS = [
  'window_size',
  'chunk_shift',
  'subsampling_factor',
  'vocab_size',
  'cache_last_channel_dim1',
  'cache_last_channel_dim2',
  'cache_last_channel_dim3',
  'cache_last_time_dim1',
  'cache_last_time_dim2',
  'cache_last_time_dim3',
];

export interface SttModelLayout {
  kind: SttModelKind;
  streaming: boolean;
  /** `modelConfig` for the recogniser (without threads/provider). */
  modelConfig: SherpaConfig;
  /** The model files used (relative to the model directory). */
  files: string[];
}

const ONNX_NAMES = ['encoder', 'decoder', 'joiner', 'model'] as const;

/** `name.onnx`, else `name.int8.onnx`, if present. */
function pick(present: Set<string>, base: string): string | undefined {
  if (present.has(`${base}.onnx`)) return `${base}.onnx`;
  if (present.has(`${base}.int8.onnx`)) return `${base}.int8.onnx`;
  return undefined;
}

async function metadataOf(dir: string, file: string, ctx: ModelErrorContext): Promise<Map<string, string>> {
  try {
    return await readOnnxMetadata(join(dir, file));
  } catch (error) {
    throw modelError(
      ctx,
      'invalid_model',
      `${file}: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
}

function requireKeys(
  meta: Map<string, string>,
  keys: readonly string[],
  file: string,
  ctx: ModelErrorContext,
): void {
  const missing = missingKeys(meta, keys);
  if (missing.length > 0) {
    throw modelError(ctx, 'invalid_model', `${file} lacks metadata sherpa-onnx needs: ${missing.join(', ')}`);
  }
}

export async function detectSttModel(
  dir: string,
  name: string,
  ctx: ModelErrorContext,
): Promise<SttModelLayout> {
  const candidates = ['tokens.txt', ...ONNX_NAMES.flatMap((n) => [`${n}.onnx`, `${n}.int8.onnx`])];
  const present = await presentFiles(dir, candidates);
  if (!present.has('tokens.txt')) {
    throw modelError(ctx, 'model_missing', `model '${name}' has no tokens.txt`);
  }
  const tokens = join(dir, 'tokens.txt');
  const encoder = pick(present, 'encoder');
  const decoder = pick(present, 'decoder');
  const joiner = pick(present, 'joiner');
  const model = pick(present, 'model');

  if (encoder && decoder && joiner) {
    const encMeta = await metadataOf(dir, encoder, ctx);
    const decMeta = await metadataOf(dir, decoder, ctx);
    requireKeys(decMeta, ['context_size'], decoder, ctx);
    const transducer = {
      encoder: join(dir, encoder),
      decoder: join(dir, decoder),
      joiner: join(dir, joiner),
    };
    const files = [encoder, decoder, joiner, 'tokens.txt'];
    if (encMeta.has('T') || encMeta.has('decode_chunk_len')) {
      requireKeys(encMeta, ['model_type'], encoder, ctx);
      return { kind: 'online-transducer', streaming: true, modelConfig: { transducer, tokens }, files };
    }
    return { kind: 'offline-transducer', streaming: false, modelConfig: { transducer, tokens }, files };
  }
  if (encoder && decoder) {
    const encMeta = await metadataOf(dir, encoder, ctx);
    requireKeys(
      encMeta,
      ['n_text_layer', 'n_text_ctx', 'n_text_state', 'n_vocab', 'sot', 'eot'],
      encoder,
      ctx,
    );
    return {
      kind: 'offline-whisper',
      streaming: false,
      modelConfig: {
        whisper: { encoder: join(dir, encoder), decoder: join(dir, decoder), task: 'transcribe' },
        tokens,
      },
      files: [encoder, decoder, 'tokens.txt'],
    };
  }
  if (model) {
    const meta = await metadataOf(dir, model, ctx);
    const modelType = meta.get('model_type');
    if (meta.has('window_size') && meta.has('chunk_shift')) {
      requireKeys(meta, ONLINE_NEMO_CTC_KEYS, model, ctx);
      return {
        kind: 'online-nemo-ctc',
        streaming: true,
        modelConfig: { nemoCtc: { model: join(dir, model) }, tokens },
        files: [model, 'tokens.txt'],
      };
    }
    if (modelType === 'EncDecCTCModelBPE') {
      requireKeys(meta, ['vocab_size', 'subsampling_factor', 'normalize_type'], model, ctx);
      return {
        kind: 'offline-nemo-ctc',
        streaming: false,
        modelConfig: { nemoCtc: { model: join(dir, model) }, tokens },
        files: [model, 'tokens.txt'],
      };
    }
    throw modelError(
      ctx,
      'invalid_model',
      `model '${name}': model.onnx has model_type '${modelType ?? '(none)'}'; supported: EncDecCTCModelBPE (NeMo CTC) or a streaming NeMo CTC model`,
    );
  }
  throw modelError(
    ctx,
    'model_missing',
    `model '${name}' has no recognised layout (encoder/decoder/joiner.onnx, encoder/decoder.onnx or model.onnx, with tokens.txt)`,
  );
}
