// No source file over 450 lines (issue 13): a file that grows past it is split by role.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './import-graph.js';

const MAX_LINES = 450;
/** The shipped sources: the server, the receiver package, the browser SDK, the dashboard, benchmarks. */
const ROOTS = [
  'src',
  'packages/receiver/src',
  'packages/receiver/scripts',
  'browser-sdk',
  'dashboard/src',
  'bench',
];

function sources(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sources(path);
    return /\.(ts|tsx|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('source files', () => {
  const files = ROOTS.flatMap((root) => sources(join(repoRoot, root)));

  it('are found', () => {
    expect(files.length).toBeGreaterThan(200);
  });

  it(`have at most ${MAX_LINES} lines each`, () => {
    const over = files
      .map((file) => ({
        file: relative(repoRoot, file),
        lines: readFileSync(file, 'utf8').split('\n').length - 1,
      }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(over, 'split these by role').toEqual([]);
  });
});
