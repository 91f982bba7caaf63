// The import graph of src/ and the layering rules over it (used by layering.test.ts).
//
// Imports are read with regular expressions rather than a parser: TypeScript 7 (our `tsc`) has no
// in-process parser API, and with `verbatimModuleSyntax` every import is one of the shapes below.
// Static imports and re-exports are matched only at the start of a line, so commented-out code
// and examples in doc comments (` * import …`) are not read; `import('…')` (dynamic, or a type
// position) is matched anywhere. Type-only imports count: a type that an upper folder owns ties
// the lower folder to it just as a value does.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One import: both paths relative to the repository root, with `/` separators. */
export interface ImportEdge {
  from: string;
  to: string;
}

const STATIC_IMPORT = /^[ \t]*(?:import|export)[\s\w${},*]*?\bfrom\s*['"]([^'"\n]+)['"]/gm;
const SIDE_EFFECT_IMPORT = /^[ \t]*import\s*['"]([^'"\n]+)['"]/gm;
const IMPORT_CALL = /\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;

/** The specifiers a TypeScript source imports or re-exports from, in order of appearance. */
export function importSpecifiers(source: string): string[] {
  const found: { at: number; specifier: string }[] = [];
  for (const pattern of [STATIC_IMPORT, SIDE_EFFECT_IMPORT, IMPORT_CALL]) {
    for (const match of source.matchAll(pattern)) {
      found.push({ at: match.index, specifier: match[1] ?? '' });
    }
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.specifier);
}

function listTsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

const toPosix = (path: string) => path.split(sep).join('/');

/**
 * Every relative import between the .ts files under src/ (package imports are not edges).
 * A `.js` specifier names the `.ts` file beside it (NodeNext resolution).
 */
export function collectImports(rootDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of listTsFiles(join(rootDir, 'src'))) {
    const from = toPosix(relative(rootDir, file));
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const to = posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
      edges.push({ from, to });
    }
  }
  return edges;
}

/** The unit layering is checked at: the top folder under src/ (`src/engine/x/y.ts` → `engine`), or a top-level file's name (`src/server.ts` → `server`). */
export function folderOf(path: string): string {
  const rest = path.slice('src/'.length);
  const slash = rest.indexOf('/');
  return slash === -1 ? rest.replace(/\.ts$/, '') : rest.slice(0, slash);
}

export type ViolationKind = 'upward' | 'cycle';

export interface Violation extends ImportEdge {
  kind: ViolationKind;
  /** `engine -> webhooks`: the folders of the two files. */
  folders: string;
}

/**
 * The imports that break the layering: `upward`, from a folder to one in a higher layer; `cycle`,
 * from a folder to another of its own layer that imports it back (directly or through other
 * folders of that layer). A folder missing from `layerOf` is an error: every folder needs a place.
 */
export function findViolations(
  edges: readonly ImportEdge[],
  layerOf: ReadonlyMap<string, number>,
): Violation[] {
  const layer = (folder: string, file: string) => {
    const l = layerOf.get(folder);
    if (l === undefined) throw new Error(`${file}: the folder '${folder}' has no layer; add it to LAYERS`);
    return l;
  };
  const sideways = new Map<string, Set<string>>();
  const violations: Violation[] = [];
  const crossing = edges.filter((e) => folderOf(e.from) !== folderOf(e.to));
  for (const e of crossing) {
    const [a, b] = [folderOf(e.from), folderOf(e.to)];
    const [la, lb] = [layer(a, e.from), layer(b, e.to)];
    if (lb > la) violations.push({ ...e, kind: 'upward', folders: `${a} -> ${b}` });
    else if (lb === la) {
      const set = sideways.get(a) ?? new Set<string>();
      sideways.set(a, set.add(b));
    }
  }
  const reaches = (start: string, goal: string) => {
    const seen = new Set<string>([start]);
    const queue = [start];
    for (let folder = queue.shift(); folder !== undefined; folder = queue.shift()) {
      if (folder === goal) return true;
      for (const next of sideways.get(folder) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    return false;
  };
  for (const e of crossing) {
    const [a, b] = [folderOf(e.from), folderOf(e.to)];
    if (layer(a, e.from) === layer(b, e.to) && reaches(b, a)) {
      violations.push({ ...e, kind: 'cycle', folders: `${a} -> ${b}` });
    }
  }
  return violations;
}

/** `src/engine/x.ts -> src/webhooks/events/index.ts`: one line of the allowlist. */
export const edgeKey = (e: ImportEdge) => `${e.from} -> ${e.to}`;

export interface LayeringReport {
  /** Violations not in the allowlist, one readable line each: these fail the check. */
  fresh: string[];
  /** Allowlist lines that are no longer violations: these fail too, so the list only shrinks. */
  stale: string[];
}

/** The layering check: the violations of `edges` compared with the allowlist `known` (edge keys). */
export function checkLayering(
  edges: readonly ImportEdge[],
  layerOf: ReadonlyMap<string, number>,
  known: readonly string[],
): LayeringReport {
  const violations = findViolations(edges, layerOf);
  const current = new Set(violations.map(edgeKey));
  const allowed = new Set(known);
  const fresh = new Set<string>();
  for (const v of violations) {
    if (allowed.has(edgeKey(v))) continue;
    const [a, b] = v.folders.split(' -> ') as [string, string];
    const why =
      v.kind === 'upward'
        ? `upward: ${a} (layer ${layerOf.get(a)}) may not import ${b} (layer ${layerOf.get(b)})`
        : `cycle: ${a} and ${b} (both layer ${layerOf.get(a)}) import each other, directly or through their layer`;
    fresh.add(`${v.from} imports ${v.to}: ${why}`);
  }
  const stale = [...allowed].filter((key) => !current.has(key)).map((key) => `${key}: no longer a violation`);
  return { fresh: [...fresh], stale };
}

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
