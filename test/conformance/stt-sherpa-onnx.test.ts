/**
 * sherpa-onnx STT against the conformance suite, twice: with a non-streaming (offline) and a
 * streaming (online) NeMo-CTC-shaped model, both tiny ONNX files written by the test
 * (src/testing/sherpa-models.ts) in which a low tone burst reads "hello" and a high one
 * "world". The real addon loads the models and decodes. No fault cases: a local engine cannot
 * be rate-limited or disconnected.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createSherpaOnnxStt } from '../../src/stt/sherpa-onnx/index.js';
import type { SttOptions } from '../../src/stt/stt.js';
import {
  toneBursts,
  writeStreamingToneCtcModel,
  writeToneCtcModel,
} from '../../src/testing/sherpa-models.js';
import { describeSttConformance, type SttConformanceTarget } from './stt-conformance.js';

const MAX_UTTERANCE_MS = 10_000;

async function target(model: 'offline' | 'streaming'): Promise<SttConformanceTarget> {
  const modelsDir = await mkdtemp(join(tmpdir(), 'parley-sherpa-conformance-'));
  if (model === 'offline') await writeToneCtcModel(join(modelsDir, model));
  else await writeStreamingToneCtcModel(join(modelsDir, model));
  return {
    provider: createSherpaOnnxStt({ modelsDir, maxUtteranceMs: MAX_UTTERANCE_MS }),
    sampleRates: [16000, 8000],
    options: { model },
    streamsPartials: model === 'streaming',
    // Offline models buffer an utterance locally (capped); streaming ones end it by endpoint.
    ...(model === 'offline' ? { maxUtteranceMs: MAX_UTTERANCE_MS } : {}),
    utterance: async (rate: SttOptions['sampleRate']) => ({
      audio: toneBursts(
        rate,
        [
          { hz: 300, ms: 300 },
          { hz: 3000, ms: 300 },
        ],
        { leadMs: 100, gapMs: 200 },
      ),
      text: 'hello world',
    }),
    close: () => rm(modelsDir, { recursive: true, force: true }),
  };
}

describe('offline model (decoded on flush)', () => {
  describeSttConformance('sherpa-onnx', () => target('offline'));
});

describe('streaming model (partials, endpoints)', () => {
  describeSttConformance('sherpa-onnx', () => target('streaming'));
});
