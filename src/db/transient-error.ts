/**
 * Whether a database error may succeed when the same statement is run again: lost or refused
 * connections, a restart or failover (`57P01`…), a cancelled statement (`57014`), lock and
 * serialisation conflicts, exhausted resources. Errors in the data or the SQL itself (SQLSTATE
 * classes 22, 23, 42, 0A …) and programming errors are not: retrying them cannot help.
 */
export function isTransientDbError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return !PERMANENT_CLASSES.has(code.slice(0, 2));
  // Socket errors (ECONNRESET, ECONNREFUSED, ETIMEDOUT, EPIPE …).
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  // node-postgres reports a dropped connection without a code.
  const message = error instanceof Error ? error.message : '';
  return /connection|terminat|timeout exceeded|not queryable/i.test(message);
}

const PERMANENT_CLASSES = new Set(['0A', '22', '23', '2B', '2D', '3F', '42', '44']);
