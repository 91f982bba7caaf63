/**
 * sherpa-onnx TTS against the conformance suite, with a tiny VITS model (character frontend)
 * written by the test (src/testing/sherpa-models.ts); the real addon loads and runs it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCharacterVitsModel } from '../../src/testing/sherpa-models.js';
import { createSherpaOnnxTts, defaultSherpaOnnxTtsOptions } from '../../src/tts/sherpa-onnx/index.js';
import { describeTtsConformance } from './tts-conformance.js';

describeTtsConformance('sherpa-onnx', async () => {
  const modelsDir = await mkdtemp(join(tmpdir(), 'parley-sherpa-tts-conformance-'));
  await writeCharacterVitsModel(join(modelsDir, 'chars'));
  return {
    provider: createSherpaOnnxTts({ modelsDir, defaultModel: 'chars' }),
    sampleRates: [8000, 16000],
    // sherpa-onnx synthesises (and the adapter yields) one sentence at a time.
    streamingText: 'Thank you for calling. How can I help you today? I can book a table.',
    overLongText: { text: 'a'.repeat(defaultSherpaOnnxTtsOptions.maxTextChars + 1), expect: 'text_too_long' },
    close: () => rm(modelsDir, { recursive: true, force: true }),
  };
});
