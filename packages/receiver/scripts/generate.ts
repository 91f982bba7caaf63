/**
 * Generates `src/generated/schemas.ts` (the JSON Schemas the server validates its events
 * against, shared subtrees written once) and the TypeScript types of the same schemas
 * (`call.ts`, `assistant.ts`, `objects.ts`, `events.ts`, re-exported by `types.ts`) from the
 * server's definitions in `src/contract/event-schemas.ts`.
 *
 * Run: `npm run generate -w @parley/receiver`. `--check` writes nothing and exits 1 when the
 * committed files differ from a fresh generation (the drift test runs the same comparison).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate-lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'src', 'generated');

const files = await generate();
const check = process.argv.includes('--check');
let stale = 0;
for (const [name, text] of Object.entries(files)) {
  const path = join(outDir, name);
  const current = await readFile(path, 'utf8').catch(() => '');
  if (current === text) continue;
  stale++;
  if (check) console.error(`${path} differs from a fresh generation`);
  else await writeFile(path, text);
}
if (check && stale > 0) {
  console.error('run: npm run generate -w @parley/receiver');
  process.exit(1);
}
console.log(check ? 'generated files are up to date' : `wrote ${stale} file(s) to ${outDir}`);
