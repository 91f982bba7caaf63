import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalLlm, unloadLocalModels } from '../../src/llm/local/index.js';
import { writeTinyGguf } from '../../src/testing/gguf-writer.js';
import { describeLlmConformance } from './llm-conformance.js';

// The local provider on a tiny random-weight GGUF: no backend to script or break, so the fault
// cases skip. Its replies are gibberish, so the target asks for `toolChoice: "required"` (a tool
// call whenever tools are given); the free-text `city` of the suite's tool closes after a
// random number of tokens, hence the roomy context and reply limit (the model is tiny: cheap).
describeLlmConformance('local', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-llm-local-conformance-'));
  await writeTinyGguf(join(dir, 'tiny.gguf'));
  return {
    provider: createLocalLlm({
      modelsDir: dir,
      threads: 1,
      contextSize: 4096,
      maxTokensDefault: 3072,
      toolChoice: 'required',
    }),
    model: 'tiny.gguf',
    supportsTools: true,
    async close() {
      await unloadLocalModels();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
