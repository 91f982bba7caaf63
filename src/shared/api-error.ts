import { type Static, Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** The one error shape of the API: `{"error": {"code", "message", "field"?}}`. */
export const ErrorResponseSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(
      Type.String({ description: 'The offending field, as a dotted path (e.g. tools.0.name)' }),
    ),
  }),
});
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Sent as `Retry-After` (a 429 or 503 the client should retry). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

interface AjvLikeError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function fieldOf(error: AjvLikeError): string {
  const segments = error.instancePath.split('/').filter(Boolean);
  const extra = error.params.missingProperty ?? error.params.additionalProperty;
  if (typeof extra === 'string') segments.push(extra);
  return segments.map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
}

function describe(error: AjvLikeError, field: string): string {
  const where = field || 'body';
  switch (error.keyword) {
    case 'required':
      return `${where} is required`;
    case 'additionalProperties':
      return `${where} is not a known field`;
    case 'enum':
    case 'const':
      return `${where} must be one of ${JSON.stringify(error.params.allowedValues ?? error.params.allowedValue)}`;
    case 'anyOf':
      return `${where} does not match any allowed form`;
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}

/**
 * Ajv reports a failing union (`anyOf`) as every branch's errors followed by `anyOf` itself.
 * For literal unions (enums) the useful message is "must be one of …".
 */
function pickError(errors: AjvLikeError[]): AjvLikeError {
  const anyOf = errors.find((e) => e.keyword === 'anyOf');
  if (anyOf) {
    const branches = errors.filter((e) => e.instancePath === anyOf.instancePath && e.keyword === 'const');
    if (branches.length > 0 && branches.length === errors.length - 1) {
      return {
        ...anyOf,
        keyword: 'enum',
        params: { allowedValues: branches.map((b) => b.params.allowedValue) },
      };
    }
    const deeper = errors.find((e) => e.instancePath.length > anyOf.instancePath.length);
    if (deeper) return deeper;
    return anyOf;
  }
  return errors[0] as AjvLikeError;
}

/**
 * Errors Fastify raises before routing (its `frameworkErrors` option), in the same shape: a URL
 * whose percent-encoding is broken (400) and a path parameter longer than the router accepts
 * (414). The offending path is not echoed back.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      void reply.status(400).send({
        error: { code: 'invalid_request', message: 'the URL is malformed (invalid percent-encoding)' },
      });
      return;
    case 'FST_ERR_MAX_PARAM_LENGTH':
      void reply
        .status(414)
        .send({ error: { code: 'uri_too_long', message: 'a path segment of the URL is too long' } });
      return;
    default:
      errorHandler(error, request, reply);
  }
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof ApiError) {
    if (error.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(error.retryAfterSeconds));
    void reply.status(error.statusCode).send({
      error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) },
    });
    return;
  }
  if (error.validation && error.validation.length > 0) {
    const picked = pickError(error.validation as AjvLikeError[]);
    const field = fieldOf(picked);
    const context = error.validationContext ?? 'body';
    const prefix = context === 'body' ? '' : `${context}.`;
    void reply.status(400).send({
      error: {
        code: 'invalid_request',
        message: describe(picked, prefix + field),
        ...(field ? { field } : {}),
      },
    });
    return;
  }
  const status = error.statusCode ?? 500;
  if (status === 413) {
    void reply
      .status(413)
      .send({ error: { code: 'payload_too_large', message: 'request body is too large' } });
    return;
  }
  if (status >= 400 && status < 500) {
    const code =
      error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : 'invalid_request';
    void reply.status(status).send({ error: { code, message: error.message } });
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply.status(500).send({ error: { code: 'internal_error', message: 'internal server error' } });
}
