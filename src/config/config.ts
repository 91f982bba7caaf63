/**
 * Every setting Parley reads, all from environment variables: the schema, the defaults and the
 * parsing, derived from the one definition of each setting in settings.ts (README.md's
 * configuration table is checked against the same definitions).
 */
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError, SETTINGS, type Setting } from './settings.js';

export { ConfigError } from './settings.js';

type Settings = typeof SETTINGS;
type Key = keyof Settings;

export const ConfigSchema: TObject<{ [K in Key]: Settings[K]['schema'] }> = Type.Object(
  Object.fromEntries(Object.entries(SETTINGS).map(([key, setting]) => [key, setting.schema])) as {
    [K in Key]: Settings[K]['schema'];
  },
);
export type Config = Static<typeof ConfigSchema>;

type KeysWithDefault = { [K in Key]: Settings[K] extends { default: unknown } ? K : never }[Key];

/** The value of each setting that has one when its variable is unset. */
export const defaultConfig = Object.fromEntries(
  Object.entries(SETTINGS)
    .filter(([, setting]) => 'default' in setting)
    .map(([key, setting]) => [key, (setting as Setting).default]),
) as Pick<Config, KeysWithDefault>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const config: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [Key, Setting][]) {
    const value = setting.parse(env[setting.env]);
    if (value !== undefined) config[key] = value;
  }
  const first = Value.Errors(ConfigSchema, config).First();
  if (first) {
    const key = first.path.replace(/^\//, '');
    const name = key in SETTINGS ? SETTINGS[key as Key].env : key;
    throw new ConfigError(`invalid configuration ${name}: ${first.message}`);
  }
  return config as Config;
}
