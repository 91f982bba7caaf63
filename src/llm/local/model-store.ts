import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import {
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
} from 'node-llama-cpp';
import { ProviderError } from '../../shared/provider-error.js';

/**
 * Process-wide state of the `local` provider: one llama.cpp binding (loaded on first use), each
 * GGUF model loaded once and shared by every chat (and every provider instance) that names it,
 * and a few idle contexts per model kept for the next chat (a context holds the KV cache; keeping
 * it skips its allocation and lets the next turn of a call reuse the evaluated prompt prefix).
 */
export const PROVIDER = 'local';

export function llmError(code: string, message: string, retryable: boolean, cause?: unknown): ProviderError {
  return new ProviderError({ type: 'llm_error', code, message, provider: PROVIDER, retryable, cause });
}

/**
 * Resolves a tenant-supplied model name inside `modelsDir`. Refuses absolute paths and escapes
 * (`..`), so an assistant cannot open arbitrary files; a missing file is `model_not_found`.
 */
export async function resolveModelPath(modelsDir: string, model: string): Promise<string> {
  if (typeof model !== 'string' || model.length === 0 || model.length > 1000 || model.includes('\0'))
    throw llmError('invalid_model', 'model must be a GGUF file name inside the models directory', false);
  if (isAbsolute(model) || /^[a-zA-Z]:/.test(model))
    throw llmError('invalid_model', `model "${model}" must be relative to the models directory`, false);
  const root = resolve(modelsDir);
  const path = resolve(root, model);
  const rel = relative(root, path);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw llmError('invalid_model', `model "${model}" is outside the models directory`, false);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw llmError('model_not_found', `model "${model}" does not exist`, false);
  return path;
}

let llama: Promise<Llama> | undefined;
const models = new Map<string, Promise<LlamaModel>>();

function loadLlama(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error }).catch(
    (error: unknown) => {
      llama = undefined;
      throw llmError('model_load_failed', `llama.cpp is not available: ${String(error)}`, false, error);
    },
  );
  return llama;
}

/** The model at `path`, loading it on first use; concurrent callers share one load. */
export function loadModel(path: string): Promise<LlamaModel> {
  let model = models.get(path);
  if (!model) {
    model = loadLlama()
      .then((l) => l.loadModel({ modelPath: path }))
      .catch((error: unknown) => {
        models.delete(path);
        if (error instanceof ProviderError) throw error;
        throw llmError('model_load_failed', `could not load model: ${errorText(error)}`, false, error);
      });
    models.set(path, model);
  }
  return model;
}

export interface ContextSettings {
  contextSize: number;
  /** 0: node-llama-cpp's default (all math cores). */
  threads: number;
  /** Idle contexts kept per model and settings. */
  idleContexts: number;
}

/** A context with one sequence, lent to one chat at a time. */
export interface ContextLease {
  sequence: LlamaContextSequence;
  contextSize: number;
  release(): void;
}

interface PooledContext {
  context: LlamaContext;
  sequence: LlamaContextSequence;
}

const idle = new Map<string, PooledContext[]>();

export async function acquireContext(
  path: string,
  model: LlamaModel,
  s: ContextSettings,
): Promise<ContextLease> {
  const key = `${path}\0${s.contextSize}\0${s.threads}`;
  const pool = idle.get(key) ?? [];
  idle.set(key, pool);
  let entry = pool.pop();
  while (entry && (entry.context.disposed || entry.sequence.disposed)) entry = pool.pop();
  if (!entry) {
    try {
      const context = await model.createContext({
        contextSize: s.contextSize,
        sequences: 1,
        ...(s.threads > 0 ? { threads: s.threads } : {}),
      });
      entry = { context, sequence: context.getSequence() };
    } catch (error) {
      // Usually memory: other calls hold contexts; it may work once they end.
      throw llmError('resource_exhausted', `could not create a context: ${errorText(error)}`, true, error);
    }
  }
  const lent = entry;
  let released = false;
  return {
    sequence: lent.sequence,
    contextSize: lent.context.contextSize,
    release() {
      if (released) return;
      released = true;
      // The sequence keeps its tokens: the next chat on it re-evaluates only what differs.
      if (
        !lent.context.disposed &&
        !lent.sequence.disposed &&
        pool.length < s.idleContexts &&
        idle.get(key) === pool
      )
        pool.push(lent);
      else void lent.context.dispose();
    },
  };
}

/** Disposes every idle context and loaded model (tests, shutdown). The binding stays loaded. */
export async function unloadLocalModels(): Promise<void> {
  const contexts = [...idle.values()].flat();
  idle.clear();
  await Promise.allSettled(contexts.map((c) => c.context.dispose()));
  const loaded = [...models.values()];
  models.clear();
  await Promise.allSettled(loaded.map(async (m) => (await m).dispose()));
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
