import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured logs (pino). Secrets must never reach a log line: request headers are not
 * serialised at all, and these paths are censored wherever they appear.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'apiKey',
  'key',
  'secret',
  '*.secret',
  '*.apiKey',
  'assistantServer.secret',
  'assistantServer.headers',
  '*.headers',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: { id?: string; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
        }),
      },
    },
    destination,
  );
}

/**
 * Query parameters that grant access (join tokens, keys, the `sig` of signed recording links,
 * S3 presigned signatures and credentials) are replaced by "[redacted]".
 */
const BEARER_PARAMS =
  /([?&](?:token|key|api_?key|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token)=)[^&#]*/gi;

export function redactUrl(url: string | undefined): string | undefined {
  return url?.replace(BEARER_PARAMS, '$1[redacted]');
}
