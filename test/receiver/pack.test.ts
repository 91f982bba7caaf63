import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm pack` of @parley/receiver gives a tarball that a fresh project installs (offline: the
 * package has no dependencies) and uses from ES modules and CommonJS, with its types. Packed
 * from a copy of the package (its `prepack` builds there), so the examples test, which runs
 * the package's own dist/ at the same time, is not disturbed.
 */
const root = join(import.meta.dirname, '../..');
const tsc = join(dirname(fileURLToPath(import.meta.resolve('typescript/package.json'))), 'bin', 'tsc');
let dir: string;
let tarball: string;

const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-receiver-pack-'));
  const copy = join(dir, 'receiver');
  await cp(join(root, 'packages/receiver'), copy, {
    recursive: true,
    filter: (src) => !/[\\/](dist|node_modules)$/.test(src),
  });
  await symlink(join(root, 'node_modules'), join(copy, 'node_modules')); // typescript, @types/node
  execFileSync('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: copy, stdio: 'pipe' });
  const name = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
  if (!name) throw new Error('npm pack wrote no tarball');
  tarball = join(dir, name);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--loglevel=error']);
}, 180_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const usage = (load: string) => `${load}
const secret = 'whsec_MDEyMzQ1Njc4OWFiY2RlZg==';
const body = JSON.stringify({ message: { type: 'hang' } });
(async () => {
  const headers = await r.sign({ secret, id: 'evt_1', type: 'hang', body });
  const ok = await r.verify(body, headers, secret);
  let parseError = '';
  try { r.parse(body); } catch (e) { parseError = e.code + ' ' + e.field; }
  const tracker = new r.ConversationTracker();
  console.log(JSON.stringify({ scheme: ok.scheme, parseError, types: r.EVENT_TYPES.length,
    node: typeof n.nodeHandler + typeof n.expressHandler + typeof n.parleyWebhooks, state: tracker.toJSON().version }));
})();
`;

describe('npm pack of @parley/receiver', () => {
  it('holds only dist/, README and package.json: built ESM, CommonJS and types', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listing).toContain('package/dist/esm/index.js');
    expect(listing).toContain('package/dist/esm/index.d.ts');
    expect(listing).toContain('package/dist/cjs/index.js');
    expect(listing).toContain('package/dist/cjs/index.d.ts');
    expect(listing).toContain('package/dist/cjs/node-entry.d.ts');
    expect(listing.filter((f) => !/^package\/(dist\/|README\.md$|package\.json$)/.test(f))).toEqual([]);
  });

  it('works from ES modules and from CommonJS', async () => {
    const expected = {
      scheme: 'standard',
      parseError: 'invalid_event message.timestamp',
      types: 7,
      node: 'functionfunctionfunction',
      state: 1,
    };
    await writeFile(
      join(dir, 'esm.mjs'),
      usage("import * as r from '@parley/receiver';\nimport * as n from '@parley/receiver/node';"),
    );
    await writeFile(
      join(dir, 'cjs.cjs'),
      usage("const r = require('@parley/receiver');\nconst n = require('@parley/receiver/node');"),
    );
    expect(JSON.parse(run(process.execPath, ['esm.mjs']))).toEqual(expected);
    expect(JSON.parse(run(process.execPath, ['cjs.cjs']))).toEqual(expected);
  });

  it('types a consumer, under NodeNext ESM and CommonJS resolution', async () => {
    const source = (load: string) => `${load}
export async function handle(raw: string, headers: Record<string, string>): Promise<string> {
  await verify(raw, headers, 'secret', { toleranceSeconds: 60 });
  const event: WebhookEvent = parse(raw);
  if (event.message.type === 'tool-calls') {
    const call: ToolCall | undefined = event.message.toolCallList[0];
    return call?.function.name ?? '';
  }
  const handler = nodeHandler({ secret: 's', onEvent: () => undefined });
  void handler;
  // @ts-expect-error: status is a closed union
  const bad: WebhookEvent['message']['call']['status'] = 'nope';
  return String(bad);
}
`;
    const imports = `import { parse, verify, type ToolCall, type WebhookEvent } from '@parley/receiver';
import { nodeHandler } from '@parley/receiver/node';`;
    await writeFile(join(dir, 'consumer.mts'), source(imports));
    await writeFile(join(dir, 'consumer.cts'), source(imports));
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    );
    expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'])).toBe('');
  }, 60_000);
});
