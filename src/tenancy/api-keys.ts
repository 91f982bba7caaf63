/**
 * API keys: `pk_` + 32 random bytes (base64url). Only the SHA-256 of a key is stored: keys are
 * high-entropy random strings, so a fast hash is safe (no password-style KDF needed) and lets
 * every request be authenticated with one indexed lookup.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import { newObjectId } from '../shared/ids.js';

function generateApiKey(): string {
  return `pk_${randomBytes(32).toString('base64url')}`;
}

function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface Team {
  id: string;
  name: string;
}

export async function findOrCreateTeam(db: Db, name: string): Promise<Team> {
  await db
    .insertInto('teams')
    .values({ id: newObjectId(), name })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const team = await db
    .selectFrom('teams')
    .select(['id', 'name'])
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return team;
}

/** Stores `key` (hashed) for the team; idempotent for the same key. */
export async function addApiKey(db: Db, teamId: string, key: string, name = ''): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      id: newObjectId(),
      team_id: teamId,
      key_hash: hashApiKey(key),
      key_prefix: key.slice(0, 7),
      name,
    })
    .onConflict((oc) => oc.column('key_hash').doNothing())
    .execute();
}

/** Creates a new key for the team (creating the team if needed). The key is returned once. */
export async function createApiKey(
  db: Db,
  teamName: string,
  keyName = '',
): Promise<{ team: Team; key: string }> {
  const team = await findOrCreateTeam(db, teamName);
  const key = generateApiKey();
  await addApiKey(db, team.id, key, keyName);
  return { team, key };
}

export async function teamForApiKey(db: Db, key: string): Promise<Team | undefined> {
  return db
    .selectFrom('api_keys')
    .innerJoin('teams', 'teams.id', 'api_keys.team_id')
    .select(['teams.id as id', 'teams.name as name'])
    .where('api_keys.key_hash', '=', hashApiKey(key))
    .executeTakeFirst();
}

export const DEFAULT_TEAM_NAME = 'default';
