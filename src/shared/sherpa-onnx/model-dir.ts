/**
 * Model names from tenants' assistants resolve inside the operator's models directory only:
 * absolute paths, `..` segments and odd characters are refused (non-retryable `invalid_model`),
 * so a tenant cannot make the server open arbitrary files.
 */
import { access, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ProviderError, type ProviderErrorType } from '../provider-error.js';

const NAME = /^[A-Za-z0-9_.+-]+(\/[A-Za-z0-9_.+-]+)*$/;

export interface ModelErrorContext {
  type: ProviderErrorType;
  provider: string;
}

export function modelError(
  ctx: ModelErrorContext,
  code: string,
  message: string,
  cause?: unknown,
): ProviderError {
  return new ProviderError({
    type: ctx.type,
    code,
    message,
    provider: ctx.provider,
    retryable: false,
    cause,
  });
}

/** The absolute directory for `name` under `modelsDir`; throws `invalid_model` for escapes. */
export function resolveModelDir(modelsDir: string, name: string | undefined, ctx: ModelErrorContext): string {
  if (!name)
    throw modelError(
      ctx,
      'invalid_model',
      'no model named: set the model (a directory under the models directory)',
    );
  const segments = name.split('/');
  if (isAbsolute(name) || !NAME.test(name) || segments.some((s) => s === '.' || s === '..')) {
    throw modelError(ctx, 'invalid_model', `model name '${name}' is not a plain relative directory name`);
  }
  const root = resolve(modelsDir);
  const dir = resolve(root, name);
  const rel = relative(root, dir);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || !dir.startsWith(root + sep)) {
    throw modelError(ctx, 'invalid_model', `model name '${name}' escapes the models directory`);
  }
  return dir;
}

/** Throws `model_missing` when `dir` is not a directory. */
export async function assertModelDir(dir: string, name: string, ctx: ModelErrorContext): Promise<void> {
  let isDir = false;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (error) {
    throw modelError(ctx, 'model_missing', `model '${name}' not found in the models directory`, error);
  }
  if (!isDir) throw modelError(ctx, 'model_missing', `model '${name}' is not a directory`);
}

/** Which of `files` exist in `dir`. */
export async function presentFiles(dir: string, files: readonly string[]): Promise<Set<string>> {
  const present = new Set<string>();
  await Promise.all(
    files.map(async (f) => {
      try {
        await access(join(dir, f));
        present.add(f);
      } catch {
        // absent
      }
    }),
  );
  return present;
}
