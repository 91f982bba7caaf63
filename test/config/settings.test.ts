// Each setting is defined once (src/config/settings.ts): the README's configuration table, the
// parsing and the defaults all come from that definition, and this test holds them together.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig } from '../../src/config/config.js';
import { readmeRow, SETTINGS } from '../../src/config/settings.js';
import { credentialEnvironment } from '../../src/providers/credential-lookup.js';

/** The rows of README.md's configuration table. */
function readmeRows(): string[] {
  const lines = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8').split('\n');
  const header = lines.indexOf('| variable | meaning | default |');
  expect(header, 'README.md has no configuration table').toBeGreaterThan(0);
  const rows: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return rows;
}

const variablesOf = (row: string) =>
  [...(row.split(' | ')[0] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]);

/** Variables other modules read: the operator's provider keys and base URLs, the price table. */
const readElsewhere = new Set([
  ...Object.values(credentialEnvironment).flatMap((e) => [...e.apiKey, e.baseUrl]),
  'PARLEY_PRICES',
]);

describe('the configuration settings', () => {
  const settings = Object.values(SETTINGS);

  it("are README.md's configuration table, row for row (names, meanings, defaults)", () => {
    const rows = readmeRows();
    expect(rows.slice(0, settings.length)).toEqual(settings.map(readmeRow));
    // The table's other rows name only variables read elsewhere, and all of them.
    const rest = rows.slice(settings.length).flatMap(variablesOf);
    for (const name of rest)
      expect(readElsewhere.has(name as string), `${name} is read by nothing`).toBe(true);
    expect(new Set(rest)).toEqual(readElsewhere);
  });

  it('each have their own variable', () => {
    const names = settings.map((s) => s.env);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(readElsewhere.has(name)).toBe(false);
  });

  it('apply their defaults when no variable is set, and nothing else', () => {
    const config = loadConfig({});
    expect(config).toEqual(defaultConfig);
    expect(defaultConfig).toMatchObject({
      port: 3000,
      dataDir: './.parley',
      logLevel: 'info',
      allowPrivateWebhooks: false,
    });
    for (const [key, setting] of Object.entries(SETTINGS)) {
      if ('default' in setting) expect(config[key as keyof typeof config]).toBe(setting.default);
      else expect(key in config).toBe(false);
    }
  });

  it('read each setting from its own variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      PARLEY_PUBLIC_URL: 'https://parley.example',
      DATABASE_URL: 'postgres://db/parley',
      PARLEY_LOG_LEVEL: 'debug',
      PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
      PARLEY_RECORDING_S3_FORCE_PATH_STYLE: 'true',
      PARLEY_RECORDING_S3_PREFIX: '',
      PARLEY_CALL_HEARTBEAT_MS: '250',
      PARLEY_SECRET_KEY: 'k'.repeat(32),
      PARLEY_LOCAL_LLM_CONTEXT_SIZE: '8192',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      publicUrl: 'https://parley.example',
      databaseUrl: 'postgres://db/parley',
      logLevel: 'debug',
      allowPrivateWebhooks: true,
      recordingS3ForcePathStyle: true,
      // Set but empty: no prefix (every other text setting treats '' as unset).
      recordingS3Prefix: '',
      callHeartbeatMs: 250,
      secretKey: 'k'.repeat(32),
      localLlmContextSize: 8192,
    });
    expect(loadConfig({ HOST: '' }).host).toBe('0.0.0.0');
    expect('publicUrl' in loadConfig({ PARLEY_PUBLIC_URL: '' })).toBe(false);
  });

  it('refuse a bad value, naming its variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(
      new ConfigError('PORT must be a non-negative integer, got "eighty"'),
    );
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/^invalid configuration PORT: /);
    expect(() => loadConfig({ PARLEY_ALLOW_PRIVATE_WEBHOOKS: 'yes' })).toThrow(
      'PARLEY_ALLOW_PRIVATE_WEBHOOKS must be 1 or 0, got "yes"',
    );
    expect(() => loadConfig({ PARLEY_LOG_LEVEL: 'loud' })).toThrow(
      /^invalid configuration PARLEY_LOG_LEVEL: /,
    );
    expect(() => loadConfig({ PARLEY_BOOTSTRAP_KEY: 'short' })).toThrow(
      /^invalid configuration PARLEY_BOOTSTRAP_KEY: /,
    );
    expect(() => loadConfig({ PARLEY_CALL_HEARTBEAT_MS: '50' })).toThrow(
      /^invalid configuration PARLEY_CALL_HEARTBEAT_MS: /,
    );
  });
});
