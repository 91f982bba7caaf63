import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { ApiError } from './api-error.js';

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

/** ISO-8601 UTC as `toISOString` writes it, years 0001 to 9999 (what every database stores). */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;
/** The ids cursors carry: ObjectIds, `WC-<uuid>`, `dlv_…`. */
const CURSOR_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * A date given in a query (`createdAfter`, a cursor) as a Date the database accepts, or a 400
 * naming `field`: the `date-time` format lets through what JavaScript cannot represent
 * (`23:59:60`) and years the database refuses.
 */
export function parseDateParam(value: string, field: string): Date {
  const date = new Date(value);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1 || year > 9999)
    throw new ApiError(400, 'invalid_request', `${field} must be a date between the years 1 and 9999`, field);
  return date;
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (cursor === undefined) return undefined;
  const [iso, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const invalid = () => new ApiError(400, 'invalid_request', 'cursor is invalid', 'cursor');
  if (extra !== undefined || !iso || !ISO_UTC.test(iso) || !id || !CURSOR_ID.test(id)) throw invalid();
  try {
    return { createdAt: parseDateParam(iso, 'cursor'), id };
  } catch {
    throw invalid();
  }
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
