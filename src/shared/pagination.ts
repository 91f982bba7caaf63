import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { ApiError } from '../http/api-error.js';

/** Keyset pagination over (created_at desc, id desc): stable under concurrent inserts. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
};

export function encodeCursor(row: { created_at: Date; id: string }): string {
  return Buffer.from(`${row.created_at.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (cursor === undefined) return undefined;
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime()))
    throw new ApiError(400, 'invalid_request', 'cursor is invalid', 'cursor');
  return { createdAt, id };
}

export function page<T extends { created_at: Date; id: string }>(rows: T[], limit: number) {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeCursor(last) : null };
}

/** Rows strictly after the cursor in (created_at desc, id desc) order: a row comparison. */
export function afterCursor(cursor: Cursor) {
  return sql<boolean>`(created_at, id) < (${cursor.createdAt}, ${cursor.id})`;
}
