import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../packages/receiver/scripts/generate-lib.js';
import { eventSchemas as packageSchemas } from '../../packages/receiver/src/generated/schemas.js';
import { EVENT_TYPES } from '../../packages/receiver/src/generated/types.js';
import { eventSchemas, EVENT_TYPES as SERVER_EVENT_TYPES } from '../../src/contract/event-schemas.js';

const generatedDir = join(import.meta.dirname, '../../packages/receiver/src/generated');

describe('@parley/receiver generated files', () => {
  it('are what a fresh generation from the server schemas writes (run `npm run generate:receiver`)', async () => {
    const fresh = await generate();
    expect(Object.keys(fresh).sort()).toEqual([
      'assistant.ts',
      'call.ts',
      'events.ts',
      'objects.ts',
      'schemas.ts',
      'types.ts',
    ]);
    for (const [name, text] of Object.entries(fresh)) {
      const committed = await readFile(join(generatedDir, name), 'utf8');
      expect(committed, `${name} has drifted from the server's schemas`).toBe(text);
    }
  });

  it('hold exactly the schemas the server validates against and serves', () => {
    expect(EVENT_TYPES).toEqual(SERVER_EVENT_TYPES);
    for (const type of SERVER_EVENT_TYPES) {
      expect(packageSchemas[type]).toEqual(JSON.parse(JSON.stringify(eventSchemas[type])));
    }
  });
});
