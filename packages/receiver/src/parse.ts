/**
 * `parse`: a raw webhook body (either wire format) to a typed, validated event.
 */

import { eventSchemas } from './generated/schemas.js';
import { EVENT_TYPES, type EventType, type WebhookEvent } from './generated/types.js';
import { fromHms, isHmsMessage } from './hms.js';
import { type SchemaIssue, validate } from './validate.js';
import { bodyBytes, type RawBody } from './verify.js';

export type WireFormat = 'interactly' | 'hms';

export type ParseErrorCode = 'invalid_json' | 'invalid_event' | 'unknown_event_type';

export class WebhookParseError extends Error {
  constructor(
    readonly code: ParseErrorCode,
    message: string,
    /** Dotted path of the first offending field (`message.call.status`), when there is one. */
    readonly field: string | undefined,
    readonly issues: readonly SchemaIssue[] = [],
  ) {
    super(message);
    this.name = 'WebhookParseError';
  }
}

export interface ParseOptions {
  /** Wire format of the body; `auto` (default) recognises hms by its snake_case call. */
  format?: WireFormat | 'auto';
  /**
   * Refuse properties the schemas do not know. Default false: a receiver keeps working when a
   * newer server adds fields (the contract only ever adds).
   */
  strict?: boolean;
}

export interface ParsedEvent {
  /** The event in the default shape (hms bodies converted), validated. */
  event: WebhookEvent;
  /** Format the body arrived in. */
  format: WireFormat;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function readJson(body: RawBody | object): unknown {
  if (typeof body === 'object' && !(body instanceof Uint8Array) && !(body instanceof ArrayBuffer)) {
    return body;
  }
  let text: string;
  try {
    text = typeof body === 'string' ? body : decoder.decode(bodyBytes(body));
  } catch {
    throw new WebhookParseError('invalid_json', 'the body is not valid UTF-8', undefined);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new WebhookParseError('invalid_json', `the body is not JSON: ${(err as Error).message}`, undefined);
  }
}

/** Parses and validates a webhook body; throws {@link WebhookParseError} with the field at fault. */
export function parseEvent(body: RawBody | object, options: ParseOptions = {}): ParsedEvent {
  const value = readJson(body) as { message?: unknown } | null;
  if (typeof value !== 'object' || value === null || typeof value.message !== 'object' || !value.message) {
    throw new WebhookParseError('invalid_event', 'the body must be {"message": {...}}', 'message');
  }
  const format: WireFormat =
    options.format === undefined || options.format === 'auto'
      ? isHmsMessage(value.message)
        ? 'hms'
        : 'interactly'
      : options.format;
  const message = (format === 'hms' ? fromHms(value.message) : value.message) as { type?: unknown };
  const type = message.type;
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    throw new WebhookParseError(
      'unknown_event_type',
      `unknown event type ${JSON.stringify(type)} (expected one of ${EVENT_TYPES.join(', ')})`,
      'message.type',
    );
  }
  const event = { ...value, message };
  const issues = validate(eventSchemas[type as EventType], event, {
    allowUnknownProperties: !options.strict,
  });
  const first = issues[0];
  if (first) {
    throw new WebhookParseError(
      'invalid_event',
      `invalid ${type} event: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      first.path,
      issues,
    );
  }
  return { event: event as WebhookEvent, format };
}

/** Parses and validates a webhook body; returns the event (see {@link parseEvent}). */
export function parse(body: RawBody | object, options: ParseOptions = {}): WebhookEvent {
  return parseEvent(body, options).event;
}
