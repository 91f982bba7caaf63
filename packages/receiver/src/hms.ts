/**
 * The "hms" wire format (seed 002's platform) back to the default shape: the exact inverse of the
 * server's `serializeEvent` (src/webhooks/delivery/wire-format.ts). snake_case keys become
 * camelCase (`end_reason` → `endedReason`), ISO-8601 timestamps become epoch ms, and the call's
 * `in-progress`/`ended`/`ended-with-error` status is read back from `phone_call_status`. Free-form
 * user data (tool arguments, metadata, structured data, JSON Schemas, headers) keeps its keys.
 */
const OPAQUE = new Set([
  'arguments',
  'metadata',
  'structuredData',
  'assistantOverrides',
  'parameters',
  'schema',
  'headers',
]);
const RENAMES: Record<string, string> = { end_reason: 'endedReason' };

function camel(key: string): string {
  return RENAMES[key] ?? key.replace(/(?<=[A-Za-z0-9])_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function toCamel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCamel);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = camel(k);
    out[key] = OPAQUE.has(key) ? v : toCamel(v);
  }
  return out;
}

function epochMs(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : ms;
}

function callStatus(call: Record<string, unknown>): unknown {
  const phone = call.phoneCallStatus;
  switch (call.status) {
    case 'in-progress':
      return 'ongoing';
    case 'ended':
      return phone === 'forwarded' ? 'forwarded' : 'finished';
    case 'ended-with-error':
      return 'finished';
    default:
      return call.status;
  }
}

/** Whether a body's `message` is in the hms shape (snake_case call fields). */
export function isHmsMessage(message: unknown): boolean {
  const call = (message as { call?: unknown } | null)?.call;
  return typeof call === 'object' && call !== null && ('phone_call_status' in call || 'team_id' in call);
}

/** An hms `message` in the default shape. */
export function fromHms(message: unknown): unknown {
  const out = toCamel(message) as Record<string, unknown>;
  out.timestamp = epochMs(out.timestamp);
  const call = out.call;
  if (typeof call === 'object' && call !== null) {
    (call as Record<string, unknown>).status = callStatus(call as Record<string, unknown>);
  }
  if (Array.isArray(out.messages)) {
    for (const m of out.messages as Record<string, unknown>[]) {
      if (typeof m === 'object' && m !== null) m.timestamp = epochMs(m.timestamp);
    }
  }
  return out;
}
