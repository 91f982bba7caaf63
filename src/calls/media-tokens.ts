/**
 * One-time tokens that reach a call's media: a browser's WebSocket (`?token=`), a carrier's
 * media stream (the token in the path). In the database (`call_media_tokens`), so the media may
 * reach any server sharing it; only the token's SHA-256 is stored. A token is bound to its
 * call, expires, and is redeemed once: the redeeming update sets `used_at` only where it is
 * unset and the token unexpired, so of two servers redeeming it at once exactly one wins.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { HangUp } from '../engine/call-session.js';

export interface IssuedMediaToken {
  callId: string;
  teamId: string;
  /** Epoch ms. */
  expiresAt: number;
  /** How the call ends as soon as its media connects (assistant-request gave no assistant). */
  hangUp?: HangUp;
}

export interface RedeemedMediaToken {
  callId: string;
  teamId: string;
  hangUp?: HangUp;
}

export interface MediaTokenStore {
  /** Stores a new token for the call; returns the token (shown once, never stored). */
  issue(entry: IssuedMediaToken): Promise<string>;
  /** Redeems `token` for `callId` at `now` (epoch ms): its entry, or undefined (unknown, expired, used, other call). */
  redeem(callId: string, token: string, now: number): Promise<RedeemedMediaToken | undefined>;
}

/** 192 random bits, URL-safe (it travels in a query string or a path segment). */
export const newMediaToken = () => randomBytes(24).toString('base64url');
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** Spent and expired tokens are deleted this long after they expired, at most this often (ms). */
const PURGE_AFTER_MS = 60 * 60_000;
const PURGE_EVERY_MS = 60_000;

export class DbMediaTokens implements MediaTokenStore {
  private lastPurge = 0;

  constructor(private readonly db: Db) {}

  async issue(entry: IssuedMediaToken): Promise<string> {
    const token = newMediaToken();
    const now = Date.now();
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.db
        .deleteFrom('call_media_tokens')
        .where('expires_at', '<', new Date(now - PURGE_AFTER_MS))
        .execute();
    }
    await this.db
      .insertInto('call_media_tokens')
      .values({
        token_hash: hashOf(token),
        call_id: entry.callId,
        team_id: entry.teamId,
        expires_at: new Date(entry.expiresAt),
        hang_up: entry.hangUp ? JSON.stringify(entry.hangUp) : null,
      })
      .execute();
    return token;
  }

  async redeem(callId: string, token: string, now: number): Promise<RedeemedMediaToken | undefined> {
    const row = await this.db
      .updateTable('call_media_tokens')
      .set({ used_at: new Date(now) })
      .where('token_hash', '=', hashOf(token))
      .where('call_id', '=', callId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date(now))
      .returning(['call_id', 'team_id', 'hang_up'])
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      callId: row.call_id,
      teamId: row.team_id,
      ...(row.hang_up ? { hangUp: row.hang_up as unknown as HangUp } : {}),
    };
  }
}

/** One process, no database (unit tests, benchmarks): the same rules in a Map. */
export class MemoryMediaTokens implements MediaTokenStore {
  private readonly entries = new Map<string, IssuedMediaToken>();

  async issue(entry: IssuedMediaToken): Promise<string> {
    const token = newMediaToken();
    this.entries.set(hashOf(token), entry);
    return token;
  }

  async redeem(callId: string, token: string, now: number): Promise<RedeemedMediaToken | undefined> {
    const key = hashOf(token);
    const entry = this.entries.get(key);
    if (!entry || entry.callId !== callId || entry.expiresAt <= now) return undefined;
    this.entries.delete(key);
    return entry;
  }
}
