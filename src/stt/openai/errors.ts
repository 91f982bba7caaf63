/** OpenAI transcription failures (HTTP status + `{error:{message,type,code}}`) as `ProviderError`s. */
import { ProviderError } from '../../shared/provider-error.js';

export const OPENAI = 'openai';

export function openAiError(
  code: string,
  message: string,
  retryable: boolean,
  cause?: unknown,
): ProviderError {
  return new ProviderError({ type: 'stt_error', code, message, provider: OPENAI, retryable, cause });
}

interface ErrorBody {
  message?: string;
  type?: string;
  code?: string | null;
}

function parseErrorBody(body: string): ErrorBody {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    const e = parsed.error;
    if (e && typeof e === 'object') {
      const o = e as Record<string, unknown>;
      return {
        ...(typeof o.message === 'string' ? { message: o.message.slice(0, 300) } : {}),
        ...(typeof o.type === 'string' ? { type: o.type } : {}),
        ...(typeof o.code === 'string' ? { code: o.code } : {}),
      };
    }
  } catch {
    // not JSON
  }
  return { message: body.trim().slice(0, 300) };
}

/** A non-2xx answer. */
export function httpError(status: number, body: string, retryAfter: string | null): ProviderError {
  const e = parseErrorBody(body);
  const text = `OpenAI transcription failed: HTTP ${status}${e.message ? ` (${e.message})` : ''}`;
  if (status === 401 || status === 403) return openAiError('unauthorized', text, false);
  if (status === 429) {
    // Out of credit is a 429 too, but waiting will not help.
    if (e.code === 'insufficient_quota' || e.type === 'insufficient_quota')
      return openAiError('quota_exceeded', text, false);
    return openAiError('rate_limited', retryAfter ? `${text}; retry after ${retryAfter} s` : text, true);
  }
  if (status === 408) return openAiError('timeout', text, true);
  if (status >= 500) return openAiError('server_error', text, true);
  return openAiError('invalid_request', text, false);
}
