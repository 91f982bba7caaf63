import type { EventMessage } from '../../contract/event-schemas.js';

export type WireFormat = 'interactly' | 'hms';

/** Contract "hms" field renames beyond plain snake_case. */
const HMS_RENAMES: Record<string, string> = { endedReason: 'end_reason' };

function snake(key: string): string {
  return HMS_RENAMES[key] ?? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function hmsCallStatus(call: Record<string, unknown>): string {
  if (call.phoneCallStatus === 'ended-with-error') return 'ended-with-error';
  if (call.status === 'ongoing') return 'in-progress';
  if (call.status === 'finished' || call.status === 'forwarded') return 'ended';
  return String(call.status);
}

function toSnake(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((v) => toSnake(v, path));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Free-form user data keeps its keys: tool arguments, metadata, structured data, JSON Schemas.
    const opaque = [
      'arguments',
      'metadata',
      'structuredData',
      'assistantOverrides',
      'parameters',
      'schema',
      'headers',
    ];
    out[snake(k)] = opaque.includes(k) ? v : toSnake(v, `${path}.${k}`);
  }
  return out;
}

/**
 * The request body for one target: `{"message": …}` in the default format, or the same event
 * in seed 002's shape (snake_case, ISO-8601 timestamps, `in-progress`/`ended` statuses).
 */
export function serializeEvent(message: EventMessage, format: WireFormat): string {
  if (format === 'interactly') return JSON.stringify({ message });
  const call = message.call as unknown as Record<string, unknown>;
  const converted = toSnake(message, '') as Record<string, unknown>;
  converted.timestamp = new Date(message.timestamp).toISOString();
  const hmsCall = converted.call as Record<string, unknown>;
  hmsCall.status = hmsCallStatus(call);
  const messages = converted.messages;
  if (Array.isArray(messages)) {
    for (const m of messages as Record<string, unknown>[]) {
      if (typeof m.timestamp === 'number') m.timestamp = new Date(m.timestamp).toISOString();
    }
  }
  return JSON.stringify({ message: converted });
}
