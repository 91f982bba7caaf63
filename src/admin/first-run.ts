/**
 * What a first start does: the demo assistant for a fresh install, and the hint that tells the
 * user how to create the first API key.
 */
import { resolve } from 'node:path';
import { withDefaults } from '../assistants/assistant-defaults.js';
import { insertAssistant, listAssistants } from '../assistants/assistant-store.js';
import { type Config, defaultConfig } from '../config/config.js';
import type { Db } from '../db/database.js';
import { demoAssistant } from '../engine/demo-assistant.js';
import { DEFAULT_TEAM_NAME, findOrCreateTeam } from '../tenancy/api-keys.js';

/**
 * What a first start tells the user when the team `default` has no API key yet: the exact
 * command that creates one (it works while the server runs). No secret is printed.
 */
export async function firstRunHint(
  db: Db,
  config: Config,
  /** Where the dashboard is (the public URL, or this server's own). */
  dashboardUrl: string,
): Promise<string | undefined> {
  const key = await db
    .selectFrom('api_keys')
    .innerJoin('teams', 'teams.id', 'api_keys.team_id')
    .select('api_keys.id')
    .where('teams.name', '=', DEFAULT_TEAM_NAME)
    .executeTakeFirst();
  if (key) return undefined;
  // The same data as this server: the same DATABASE_URL, or the same data directory.
  const where = config.databaseUrl ? 'with the same DATABASE_URL' : `from this directory (${process.cwd()})`;
  const env =
    config.databaseUrl || config.dataDir === defaultConfig.dataDir
      ? ''
      : `PARLEY_DATA_DIR=${shellQuote(resolve(config.dataDir))} `;
  return [
    '',
    `parley: the team "${DEFAULT_TEAM_NAME}" has no API key yet. Create one in another terminal, ${where}:`,
    '',
    `    KEY=$(${env}npx parley keys create --team ${DEFAULT_TEAM_NAME})`,
    '',
    `  It works while this server runs; the key is printed once. Use it as "authorization: Bearer $KEY"`,
    `  and to sign in to the dashboard at ${dashboardUrl.replace(/\/$/, '')}/.`,
    '',
    '',
  ].join('\n');
}

const shellQuote = (text: string) =>
  /^[\w./:@%+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * Creates the demo assistant for the default team when that team has no assistant yet
 * (a fresh install). Returns its id when created.
 */
export async function ensureDemoAssistant(db: Db): Promise<string | undefined> {
  const team = await findOrCreateTeam(db, DEFAULT_TEAM_NAME);
  const existing = await listAssistants(db, team.id, 1);
  if (existing.length > 0) return undefined;
  const row = await insertAssistant(db, team.id, withDefaults(demoAssistant()));
  return row.id;
}
