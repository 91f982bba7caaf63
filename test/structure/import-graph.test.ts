// The layering checker on synthetic input: import parsing, upward imports, cycles, the ratchet.
import { describe, expect, it } from 'vitest';
import {
  checkLayering,
  collectImports,
  findViolations,
  folderOf,
  type ImportEdge,
  importSpecifiers,
  repoRoot,
} from './import-graph.js';
import { KNOWN_VIOLATIONS } from './known-violations.js';
import { layerOf as realLayers } from './layers.js';

describe('importSpecifiers', () => {
  it('reads imports, type imports, re-exports, side-effect and dynamic imports', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      'import {',
      '  c,',
      '  type C,',
      "} from '../c/c.js';",
      "import * as d from 'node:fs';",
      "export { e } from './e.js';",
      "export type * from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "let i: import('../i/i.js').I;",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual([
      './a.js',
      '../b/b.js',
      '../c/c.js',
      'node:fs',
      './e.js',
      './f.js',
      './g.js',
      './h.js',
      '../i/i.js',
    ]);
  });

  it('ignores commented-out imports, doc examples and look-alike code', () => {
    const source = [
      "// import { x } from '../x/x.js';",
      '/**',
      " * import { y } from '../y/y.js';",
      ' */',
      "export function fromScore() { return 'from'; }",
      "const z = { from: '../z/z.js' };",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual([]);
  });
});

describe('folderOf', () => {
  it('is the top folder under src/, or a top-level file without .ts', () => {
    expect(folderOf('src/webhooks/http/send.ts')).toBe('webhooks');
    expect(folderOf('src/server.ts')).toBe('server');
  });
});

const layers = new Map([
  ['core', 0],
  ['stt', 1],
  ['tts', 1],
  ['llm', 1],
  ['engine', 2],
]);
const edge = (from: string, to: string): ImportEdge => ({ from: `src/${from}.ts`, to: `src/${to}.ts` });

describe('findViolations', () => {
  it('allows imports downward, sideways without a cycle, and inside a folder', () => {
    const edges = [
      edge('engine/a', 'stt/b'),
      edge('stt/b', 'core/c'),
      edge('tts/d', 'stt/b'),
      edge('engine/a', 'engine/x'),
    ];
    expect(findViolations(edges, layers)).toEqual([]);
  });

  it('reports an import upward', () => {
    expect(findViolations([edge('core/c', 'engine/a')], layers)).toEqual([
      { from: 'src/core/c.ts', to: 'src/engine/a.ts', kind: 'upward', folders: 'core -> engine' },
    ]);
  });

  it('reports every import of a cycle between folders of one layer, also through a third folder', () => {
    const edges = [
      edge('stt/s', 'tts/t'),
      edge('tts/t', 'llm/l'),
      edge('llm/l', 'stt/s'),
      edge('stt/s', 'core/c'),
    ];
    expect(findViolations(edges, layers).map((v) => `${v.kind} ${v.folders}`)).toEqual([
      'cycle stt -> tts',
      'cycle tts -> llm',
      'cycle llm -> stt',
    ]);
  });

  it('reports a loop through an upward import once, as upward', () => {
    const edges = [edge('engine/a', 'stt/s'), edge('stt/s', 'engine/a')];
    expect(findViolations(edges, layers).map((v) => `${v.kind} ${v.folders}`)).toEqual([
      'upward stt -> engine',
    ]);
  });

  it('refuses a folder that has no layer, naming the file', () => {
    expect(() => findViolations([edge('engine/a', 'vad/v')], layers)).toThrow(
      "src/vad/v.ts: the folder 'vad' has no layer; add it to LAYERS",
    );
  });
});

describe('checkLayering', () => {
  it('fails on a violation not in the allowlist, naming both files', () => {
    const report = checkLayering([edge('core/c', 'engine/a'), edge('stt/s', 'engine/a')], layers, [
      'src/stt/s.ts -> src/engine/a.ts',
    ]);
    expect(report).toEqual({
      fresh: [
        'src/core/c.ts imports src/engine/a.ts: upward: core (layer 0) may not import engine (layer 2)',
      ],
      stale: [],
    });
  });

  it('fails on an allowlisted violation that no longer exists', () => {
    const report = checkLayering([edge('engine/a', 'stt/s')], layers, ['src/stt/s.ts -> src/engine/a.ts']);
    expect(report).toEqual({ fresh: [], stale: ['src/stt/s.ts -> src/engine/a.ts: no longer a violation'] });
  });

  it('catches a new upward import added to the real graph of src/', () => {
    const edges = [
      ...collectImports(repoRoot),
      { from: 'src/audio/pcm.ts', to: 'src/engine/call-session.ts' },
    ];
    expect(checkLayering(edges, realLayers, KNOWN_VIOLATIONS).fresh).toEqual([
      'src/audio/pcm.ts imports src/engine/call-session.ts: upward: audio (layer 0) may not import engine (layer 2)',
    ]);
  });
});
