// The layering of src/ holds: no import runs upward and no folders of one layer import each other
// in a cycle, except the known violations, whose list only shrinks (issue 13, item 7).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLayering, collectImports, edgeKey, folderOf, repoRoot } from './import-graph.js';
import { KNOWN_VIOLATIONS } from './known-violations.js';
import { LAYERS, layerOf } from './layers.js';

const edges = collectImports(repoRoot);

describe('layering of src/', () => {
  it('places every folder of src/ in exactly one layer, and lists no folder that is gone', () => {
    const present = readdirSync(join(repoRoot, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.name.endsWith('.ts'))
      .map((e) => folderOf(`src/${e.name}`))
      .sort();
    const placed = LAYERS.flat();
    expect(placed.length, 'a folder appears in two layers').toBe(new Set(placed).size);
    expect([...placed].sort()).toEqual(present);
  });

  it('has no upward import or cycle between folders beyond the known violations', () => {
    const { fresh } = checkLayering(edges, layerOf, KNOWN_VIOLATIONS);
    expect(
      fresh,
      'these imports break the layers of test/structure/layers.ts: import downward only, or move the piece both need to a lower folder',
    ).toEqual([]);
  });

  it('lists only violations that still exist, once each (the list only shrinks)', () => {
    const { stale } = checkLayering(edges, layerOf, KNOWN_VIOLATIONS);
    expect(stale, 'fixed: delete these lines from test/structure/known-violations.ts').toEqual([]);
    expect(KNOWN_VIOLATIONS.length, 'a line is listed twice').toBe(new Set(KNOWN_VIOLATIONS).size);
  });

  // The regular expressions must see every import between src/ files that the compiler sees
  // (tsc --explainFiles names, for each file, every file that imports it).
  it('reads the same imports of src/ as the TypeScript compiler', () => {
    const tsc = join(dirname(fileURLToPath(import.meta.resolve('typescript/package.json'))), 'bin', 'tsc');
    const explained = execFileSync(
      process.execPath,
      [tsc, '-p', 'tsconfig.json', '--noEmit', '--noCheck', '--explainFiles'],
      { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const compiler = new Set<string>();
    let file = '';
    for (const line of explained.split('\n')) {
      if (!line.startsWith(' ')) file = line.trim();
      const importer = /Imported via .* from file '([^']+)'/.exec(line)?.[1];
      if (importer?.startsWith('src/') && file.startsWith('src/')) compiler.add(`${importer} -> ${file}`);
    }
    expect(compiler.size, 'tsc --explainFiles output no longer parsed').toBeGreaterThan(100);
    expect([...new Set(edges.map(edgeKey))].sort()).toEqual([...compiler].sort());
  }, 60_000);
});
