/**
 * @parley/receiver: verify, parse and track Parley's webhooks.
 */

export { eventSchemas } from './generated/schemas.js';
export * from './generated/types.js';
export {
  handleWebhook,
  type WebhookAnswer,
  type WebhookContext,
  type WebhookHandlerOptions,
} from './handler.js';
export { type HeadersLike, header } from './headers.js';
export { fromHms, isHmsMessage } from './hms.js';
export {
  type ParsedEvent,
  type ParseErrorCode,
  type ParseOptions,
  parse,
  parseEvent,
  WebhookParseError,
  type WireFormat,
} from './parse.js';
export * from './replies.js';
export * from './tracker.js';
export { type JsonSchema, type SchemaIssue, validate } from './validate.js';
export {
  type RawBody,
  type SignatureScheme,
  sign,
  timingSafeEqualString,
  type VerificationErrorCode,
  type VerifiedRequest,
  type VerifyOptions,
  verify,
  WebhookVerificationError,
} from './verify.js';
export { webhookHandler } from './web.js';
