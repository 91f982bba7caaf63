/**
 * What kind of sherpa-onnx voice a directory holds. Expected layouts (inside
 * `<modelsDir>/<model>/`):
 *
 * - Kokoro: `model.onnx` `voices.bin` `tokens.txt` `espeak-ng-data/` (optional `lexicon*.txt`,
 *   `dict/`). Speakers are numbered (`voice` = speaker id).
 * - Piper / VITS with espeak-ng phonemes: `model.onnx` `tokens.txt` `espeak-ng-data/` (or,
 *   without that folder, the provider's `espeakDataDir`, e.g. Debian's
 *   `/usr/lib/x86_64-linux-gnu/espeak-ng-data` from the `espeak-ng-data` package).
 * - VITS with a lexicon: `model.onnx` `tokens.txt` `lexicon.txt`.
 * - VITS with characters as tokens (metadata `frontend` = `characters`, e.g. coqui models):
 *   `model.onnx` `tokens.txt`.
 *
 * VITS metadata keys that sherpa-onnx requires are checked first (it exits the process on a
 * missing one).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ModelErrorContext, modelError, presentFiles } from '../../shared/sherpa-onnx/model-dir.js';
import type { SherpaConfig } from '../../shared/sherpa-onnx/native.js';
import { missingKeys, readOnnxMetadata } from '../../shared/sherpa-onnx/onnx-metadata.js';

export type TtsVoiceKind = 'kokoro' | 'vits-espeak' | 'vits-lexicon' | 'vits-characters';

export interface TtsVoiceLayout {
  kind: TtsVoiceKind;
  /** `model` for the OfflineTts config (without threads/provider). */
  modelConfig: SherpaConfig;
}

const VITS_REQUIRED = ['sample_rate', 'n_speakers', 'language', 'comment'];
const KOKORO_REQUIRED = ['sample_rate', 'n_speakers', 'has_espeak', 'style_dim'];

/**
 * What sherpa-onnx checks (with `exit`) when it loads a Kokoro voice: the metadata keys,
 * `style_dim` = `max_tokens,1,dim` and `voices.bin` holding `n_speakers` such style tables.
 */
async function checkKokoro(meta: Map<string, string>, voices: string, name: string, ctx: ModelErrorContext) {
  const missing = missingKeys(meta, KOKORO_REQUIRED);
  if (missing.length > 0) {
    throw modelError(
      ctx,
      'invalid_model',
      `Kokoro voice '${name}': model.onnx lacks metadata: ${missing.join(', ')}`,
    );
  }
  const dims = (meta.get('style_dim') ?? '').split(',').map((d) => Number(d.trim()));
  const speakers = Number(meta.get('n_speakers'));
  if (dims.length !== 3 || dims[1] !== 1 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    throw modelError(
      ctx,
      'invalid_model',
      `Kokoro voice '${name}': bad style_dim '${meta.get('style_dim')}'`,
    );
  }
  const expected = (dims[0] ?? 0) * (dims[2] ?? 0) * speakers * 4;
  const actual = (await stat(voices)).size;
  if (!Number.isInteger(speakers) || speakers <= 0 || actual !== expected) {
    throw modelError(
      ctx,
      'invalid_model',
      `Kokoro voice '${name}': voices.bin has ${actual} bytes, the metadata needs ${expected}`,
    );
  }
}

export interface DetectVoiceOptions {
  /** espeak-ng data for Piper/Kokoro voices that do not bring their own `espeak-ng-data/`. */
  espeakDataDir?: string;
}

export async function detectTtsVoice(
  dir: string,
  name: string,
  ctx: ModelErrorContext,
  options: DetectVoiceOptions = {},
): Promise<TtsVoiceLayout> {
  const present = await presentFiles(dir, [
    'model.onnx',
    'tokens.txt',
    'voices.bin',
    'espeak-ng-data',
    'lexicon.txt',
  ]);
  if (!present.has('model.onnx') || !present.has('tokens.txt')) {
    throw modelError(ctx, 'model_missing', `voice '${name}' needs model.onnx and tokens.txt`);
  }
  const model = join(dir, 'model.onnx');
  const tokens = join(dir, 'tokens.txt');
  const dataDir = present.has('espeak-ng-data') ? join(dir, 'espeak-ng-data') : options.espeakDataDir;
  let meta: Map<string, string>;
  try {
    meta = await readOnnxMetadata(model);
  } catch (error) {
    throw modelError(
      ctx,
      'invalid_model',
      `voice '${name}': ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
  if (present.has('voices.bin')) {
    if (!dataDir) throw modelError(ctx, 'model_missing', `Kokoro voice '${name}' needs espeak-ng-data/`);
    const voices = join(dir, 'voices.bin');
    await checkKokoro(meta, voices, name, ctx);
    const lexicons = (await readdir(dir)).filter((f) => /^lexicon.*\.txt$/.test(f)).sort();
    return {
      kind: 'kokoro',
      modelConfig: {
        kokoro: {
          model,
          voices,
          tokens,
          dataDir,
          ...(lexicons.length > 0 ? { lexicon: lexicons.map((f) => join(dir, f)).join(',') } : {}),
        },
      },
    };
  }
  const missing = missingKeys(meta, VITS_REQUIRED);
  if (missing.length > 0) {
    throw modelError(
      ctx,
      'invalid_model',
      `voice '${name}': model.onnx lacks metadata sherpa-onnx needs: ${missing.join(', ')}`,
    );
  }
  if (meta.get('frontend') === 'characters') {
    return { kind: 'vits-characters', modelConfig: { vits: { model, tokens } } };
  }
  if (dataDir) return { kind: 'vits-espeak', modelConfig: { vits: { model, tokens, dataDir } } };
  if (present.has('lexicon.txt')) {
    return {
      kind: 'vits-lexicon',
      modelConfig: { vits: { model, tokens, lexicon: join(dir, 'lexicon.txt') } },
    };
  }
  throw modelError(ctx, 'model_missing', `VITS voice '${name}' needs espeak-ng-data/ or lexicon.txt`);
}
