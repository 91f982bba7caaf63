/** An error answered by the Parley API: `{"error": {"code", "message", "field"?}}`. */
export class ParleyApiError extends Error {
  override readonly name = 'ParleyApiError';
  constructor(
    /** HTTP status; 0 when the request never got an answer (network error). */
    readonly status: number,
    readonly code: string,
    message: string,
    /** The offending field as a dotted path (e.g. `tools.0.name`), when the API names one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Reads the API's error body, whatever came back (a proxy's HTML page, an empty body …). */
export async function apiErrorFrom(response: Response): Promise<ParleyApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    const e = body.error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      return new ParleyApiError(
        response.status,
        e.code,
        e.message,
        typeof e.field === 'string' && e.field !== '' ? e.field : undefined,
      );
    }
  } catch {
    // not JSON: fall through
  }
  return new ParleyApiError(
    response.status,
    `http_${response.status}`,
    text.slice(0, 200) || response.statusText || `HTTP ${response.status}`,
  );
}
