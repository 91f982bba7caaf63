import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import { ApiError } from '../shared/api-error.js';
import { type Team, teamForApiKey } from '../tenancy/api-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    team: Team;
  }
}

/** `Authorization: Bearer <key>` → the key's team, or 401. */
export function authenticate(db: Db) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new ApiError(401, 'unauthorized', 'missing API key: send "Authorization: Bearer <key>"');
    }
    const team = await teamForApiKey(db, match[1]);
    if (!team) throw new ApiError(401, 'unauthorized', 'unknown API key');
    request.team = team;
  };
}
