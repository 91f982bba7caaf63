/**
 * One HTTP attempt of a webhook delivery, and how its outcome is classified for retries.
 *
 * - Connects only through the SSRF-guarded undici Agent (shared/network-guard.ts), one cached Agent per
 *   `allowPrivate` value.
 * - Follows no redirects (undici `request` never does): a 3xx is a failure with code `redirect`.
 * - One hard deadline (AbortController + timer) covers DNS, connect, TLS, headers and body.
 * - Reads at most `maxResponseBytes` of the body, then aborts the rest (`too_large`).
 * - Never throws: every failure is a result.
 */
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { type Dispatcher, request, errors as undiciErrors } from 'undici';
import { getGuardedAgent, isSsrfRefusedError, validateWebhookUrl } from '../../shared/network-guard.js';

export type SendErrorCode =
  | 'timeout'
  | 'network'
  | 'ssrf_refused'
  | 'too_large'
  | 'redirect'
  | 'invalid_url'
  /** Addition to the brief: the request itself was malformed (e.g. a header undici rejects). */
  | 'invalid_request';

export interface SendError {
  code: SendErrorCode;
  message: string;
}

/** Response headers kept for the delivery log and the retry policy. */
export interface ResponseHeadersSubset {
  'retry-after'?: string;
  location?: string;
  'content-type'?: string;
}

export interface SendResult {
  /** 2xx, body read completely within the cap, no error. */
  ok: boolean;
  statusCode?: number;
  latencyMs: number;
  /** First 4 KB of the response body as UTF-8 text ('' if none was read). */
  responseBodySnippet: string;
  /** The whole body as text when it was read completely within the cap (for synchronous replies). */
  responseBody?: string;
  responseHeaders: ResponseHeadersSubset;
  error?: SendError;
}

export interface SendWebhookInput {
  url: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
  /** Hard deadline for the whole exchange, connect to last body byte. */
  timeoutMs: number;
  /** At most this many response body bytes are read. */
  maxResponseBytes: number;
  allowPrivate: boolean;
  signal?: AbortSignal;
  /** Override the cached guarded Agent (tests; must be guarded too). */
  dispatcher?: Dispatcher;
  /** HTTP method; default POST. */
  method?: 'POST' | 'PUT';
}

const SNIPPET_BYTES = 4096;

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no complete response within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((e) => describe(e)).join('; ');
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${typeof code === 'string' ? `${code}: ` : ''}${err.message}${cause}`;
  }
  return String(err);
}

function snippetOf(chunks: Buffer[], total: number): string {
  const buf = Buffer.concat(chunks, total).subarray(0, SNIPPET_BYTES);
  // StringDecoder.write() holds back an incomplete trailing UTF-8 sequence instead of mangling it.
  return new StringDecoder('utf8').write(buf);
}

/** Sends one webhook request. Never throws. */
export async function sendWebhook(input: SendWebhookInput): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  const fail = (code: SendErrorCode, message: string, extra: Partial<SendResult> = {}): SendResult => ({
    ok: false,
    latencyMs: elapsed(),
    responseBodySnippet: '',
    responseHeaders: {},
    ...extra,
    error: { code, message },
  });

  const check = validateWebhookUrl(input.url, { allowPrivate: input.allowPrivate });
  if (!check.ok) return fail(check.code, check.message);
  if (input.signal?.aborted) return fail('network', 'aborted by caller before sending');

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      controller.abort(new DeadlineError(input.timeoutMs));
    },
    Math.max(0, input.timeoutMs),
  );
  const onCallerAbort = () => controller.abort(input.signal?.reason ?? new Error('aborted by caller'));
  input.signal?.addEventListener('abort', onCallerAbort, { once: true });

  let statusCode: number | undefined;
  let responseHeaders: ResponseHeadersSubset = {};
  const chunks: Buffer[] = [];
  let total = 0;

  const errorFor = (err: unknown): SendError => {
    if (timedOut) return { code: 'timeout', message: `no complete response within ${input.timeoutMs} ms` };
    if (isSsrfRefusedError(err)) {
      return { code: 'ssrf_refused', message: err instanceof Error ? err.message : String(err) };
    }
    if (controller.signal.aborted) return { code: 'network', message: `aborted by caller: ${describe(err)}` };
    if (err instanceof undiciErrors.InvalidArgumentError)
      return { code: 'invalid_request', message: describe(err) };
    return { code: 'network', message: describe(err) };
  };

  try {
    const pending = request(check.url, {
      method: input.method ?? 'POST',
      headers: input.headers,
      body: input.body,
      dispatcher: input.dispatcher ?? getGuardedAgent(input.allowPrivate),
      signal: controller.signal,
      // The deadline above is the real limit; these only stop undici's own (shorter) defaults.
      headersTimeout: Math.max(1, input.timeoutMs + 1_000),
      bodyTimeout: Math.max(1, input.timeoutMs + 1_000),
    });
    // undici only acts on an abort once the request is on a connection: while DNS or the TCP/TLS
    // connect is still pending it waits for the connector (up to its connect timeout). Racing the
    // abort keeps the deadline hard; the abandoned request then rejects on its own, quietly.
    pending.catch(() => {});
    const aborted = new Promise<never>((_resolve, reject) => {
      if (controller.signal.aborted) reject(controller.signal.reason);
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    const res = await Promise.race([pending, aborted]);
    statusCode = res.statusCode;
    responseHeaders = {};
    const retryAfter = firstHeader(res.headers['retry-after']);
    const location = firstHeader(res.headers.location);
    const contentType = firstHeader(res.headers['content-type']);
    if (retryAfter !== undefined) responseHeaders['retry-after'] = retryAfter;
    if (location !== undefined) responseHeaders.location = location;
    if (contentType !== undefined) responseHeaders['content-type'] = contentType;

    let tooLarge = false;
    const cap = Math.max(0, input.maxResponseBytes);
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      const room = cap - total;
      if (chunk.length > room) {
        if (room > 0) {
          chunks.push(chunk.subarray(0, room));
          total += room;
        }
        tooLarge = true;
        break; // leaving the loop destroys the body stream: the rest is not read
      }
      chunks.push(chunk);
      total += chunk.length;
    }
    if (tooLarge) res.body.destroy();

    const snippet = snippetOf(chunks, total);
    const base = { statusCode, latencyMs: elapsed(), responseBodySnippet: snippet, responseHeaders };
    if (tooLarge) {
      return {
        ok: false,
        ...base,
        error: { code: 'too_large', message: `response body exceeds ${cap} bytes` },
      };
    }
    const responseBody = Buffer.concat(chunks, total).toString('utf8');
    if (statusCode >= 300 && statusCode < 400) {
      return {
        ok: false,
        ...base,
        responseBody,
        error: {
          code: 'redirect',
          message: `redirect ${statusCode}${location ? ` to ${location}` : ''} not followed`,
        },
      };
    }
    return { ok: statusCode >= 200 && statusCode < 300, ...base, responseBody };
  } catch (err) {
    const error = errorFor(err);
    return {
      ok: false,
      ...(statusCode !== undefined ? { statusCode } : {}),
      latencyMs: elapsed(),
      responseBodySnippet: snippetOf(chunks, total),
      responseHeaders,
      error,
    };
  } finally {
    clearTimeout(timer);
    input.signal?.removeEventListener('abort', onCallerAbort);
  }
}

export type Outcome =
  | { kind: 'success' }
  | { kind: 'retry'; retryAfterMs?: number }
  | { kind: 'fail' }
  | { kind: 'disable' };

/** Minimum wait after a 429 without `Retry-After`, or after a timeout (the receiver is overloaded;
 * Svix waits at least 60 s in both cases). */
export const THROTTLE_FLOOR_MS = 60_000;

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unparsable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) {
    const s = Number(v);
    return Number.isSafeInteger(s) ? s * 1000 : undefined;
  }
  // Date.parse understands IMF-fixdate, RFC 850 and asctime, the three forms RFC 9110 allows, but it
  // also accepts junk like "-5" or "1.5"; all three HTTP-date forms start with a day name.
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * What to do after an attempt. 2xx: success (also when the body was too large or cut off: the
 * receiver accepted the event). 410: disable the endpoint. Network errors, timeouts, 408, 429, 5xx:
 * retry, honouring `Retry-After`. Redirects, other 3xx/4xx, SSRF refusals, invalid URLs/requests: fail.
 */
export function classifyOutcome(result: SendResult, nowMs: number): Outcome {
  const code = result.error?.code;
  if (
    code === 'ssrf_refused' ||
    code === 'invalid_url' ||
    code === 'invalid_request' ||
    code === 'redirect'
  ) {
    return { kind: 'fail' };
  }
  const status = result.statusCode;
  if (status === undefined) {
    if (code === 'timeout') return { kind: 'retry', retryAfterMs: THROTTLE_FLOOR_MS };
    return { kind: 'retry' };
  }
  if (status >= 200 && status < 300) return { kind: 'success' };
  if (status === 410) return { kind: 'disable' };
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) {
    const retryAfterMs = parseRetryAfter(result.responseHeaders['retry-after'], nowMs);
    if (retryAfterMs !== undefined) return { kind: 'retry', retryAfterMs };
    if (status === 429) return { kind: 'retry', retryAfterMs: THROTTLE_FLOOR_MS };
    return { kind: 'retry' };
  }
  return { kind: 'fail' };
}
