/**
 * Lenient parsing of the synchronous replies to `tool-calls` and `assistant-request`
 * (README.md, "Webhooks": synchronous requests). Pure functions over the raw body text.
 */

export type ToolCallResult = { ok: true; result: unknown } | { ok: false; error: string };

export type ToolReplyFormat = 'results' | 'result' | 'error' | 'direct';

export type ToolReply =
  | {
      usable: true;
      format: ToolReplyFormat;
      /** One entry per requested tool call id. */
      results: Record<string, ToolCallResult>;
      /** Requested ids the reply had no result for (they are errors in `results`). */
      missing: string[];
      /** Ids in a `results` reply that were not requested (ignored). */
      unknown: string[];
    }
  | { usable: false; reason: string };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(
  body: string | undefined | null,
): { ok: true; value: Json } | { ok: false; reason: string } {
  if (body === undefined || body === null || body.trim() === '')
    return { ok: false, reason: 'the reply was empty' };
  try {
    return { ok: true, value: JSON.parse(body) as Json };
  } catch {
    const preview = body.trim().slice(0, 80);
    return { ok: false, reason: `the reply is not JSON: ${JSON.stringify(preview)}` };
  }
}

/** The text of an `error` field: a non-empty string, or an object with a non-empty `message`. */
function errorText(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v;
  if (isPlainObject(v) && typeof v.message === 'string' && v.message.trim() !== '') return v.message;
  return undefined;
}

function itemId(item: Record<string, unknown>): string | undefined {
  const id = item.tool_call_id ?? item.toolCallId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Whether `results` looks like format 1 rather than the tool's own data that happens to use the name. */
function isResultsList(
  results: unknown,
  toolCallIds: readonly string[],
): results is Record<string, unknown>[] {
  if (!Array.isArray(results) || results.length === 0) return false;
  if (!results.every(isPlainObject)) return false;
  if (results.every((r) => itemId(r) !== undefined)) return true;
  // One call, one item with a result/error but no id: the id is implied.
  const only = results[0];
  return (
    toolCallIds.length === 1 &&
    results.length === 1 &&
    only !== undefined &&
    itemId(only) === undefined &&
    ('result' in only || errorText(only.error) !== undefined)
  );
}

function itemResult(item: Record<string, unknown>): ToolCallResult {
  if ('result' in item) return { ok: true, result: item.result };
  const err = errorText(item.error);
  if (err !== undefined) return { ok: false, error: err };
  return { ok: false, error: 'the reply had no result for this tool call' };
}

/**
 * Parses a tool-calls reply for the requested tool call ids. Formats, in order:
 * 1. `{"results": [{"tool_call_id" | "toolCallId": "…", "result": …}]}` (an item may carry `error`);
 * 2. `{"result": …}` (applies to every requested id);
 * 3. `{"error": "…"}` (a non-empty string, or `{message}`; every id fails with it). The contract lists
 *    it last, but it has to be recognised before format 4, which would otherwise swallow it;
 * 4. any other JSON value: the result itself (for every requested id).
 * Empty or non-JSON bodies are unusable, with the reason to record and tell the model.
 */
export function parseToolCallsReply(
  body: string | undefined | null,
  toolCallIds: readonly string[],
): ToolReply {
  const parsed = parseJson(body);
  if (!parsed.ok) return { usable: false, reason: parsed.reason };
  const value = parsed.value;
  const all = (r: ToolCallResult): Record<string, ToolCallResult> =>
    Object.fromEntries(toolCallIds.map((id) => [id, r]));

  if (isPlainObject(value)) {
    if (isResultsList(value.results, toolCallIds)) {
      const requested = new Set(toolCallIds);
      const results: Record<string, ToolCallResult> = {};
      const unknown: string[] = [];
      for (const item of value.results) {
        const id = itemId(item) ?? toolCallIds[0];
        if (id === undefined) continue;
        if (!requested.has(id)) {
          unknown.push(id);
          continue;
        }
        if (!(id in results)) results[id] = itemResult(item);
      }
      const missing = toolCallIds.filter((id) => !(id in results));
      for (const id of missing)
        results[id] = { ok: false, error: 'the reply had no result for this tool call' };
      return { usable: true, format: 'results', results, missing, unknown };
    }
    if ('result' in value) {
      return {
        usable: true,
        format: 'result',
        results: all({ ok: true, result: value.result }),
        missing: [],
        unknown: [],
      };
    }
    const err = errorText(value.error);
    if (err !== undefined) {
      return {
        usable: true,
        format: 'error',
        results: all({ ok: false, error: err }),
        missing: [],
        unknown: [],
      };
    }
  }
  return {
    usable: true,
    format: 'direct',
    results: all({ ok: true, result: value }),
    missing: [],
    unknown: [],
  };
}

export type AssistantRequestReply =
  | { kind: 'defaults'; metadata?: Record<string, unknown> }
  | { kind: 'assistant'; assistant: Record<string, unknown>; metadata?: Record<string, unknown> }
  | {
      kind: 'assistantId';
      assistantId: string;
      assistantOverrides?: Record<string, unknown>;
      metadata?: Record<string, unknown>;
    }
  | { kind: 'error'; error: string; metadata?: Record<string, unknown> }
  | { kind: 'unusable'; reason: string };

/**
 * Parses an assistant-request reply: `{}` (defaults), `{"assistant": {...}}`,
 * `{"assistantId": "…", "assistantOverrides": {...}}`, `{"error": "…"}`; each may carry `metadata`
 * (an object, echoed later in `call.metadata`; `null` is ignored). `error` wins over everything else.
 * Unknown keys are ignored. Wrong types, or both `assistant` and `assistantId`, are unusable.
 */
export function parseAssistantRequestReply(body: string | undefined | null): AssistantRequestReply {
  const parsed = parseJson(body);
  if (!parsed.ok) return { kind: 'unusable', reason: parsed.reason };
  const v = parsed.value;
  if (!isPlainObject(v)) return { kind: 'unusable', reason: 'the reply must be a JSON object' };

  let metadata: Record<string, unknown> | undefined;
  if (v.metadata !== undefined && v.metadata !== null) {
    if (!isPlainObject(v.metadata)) return { kind: 'unusable', reason: '"metadata" must be an object' };
    metadata = v.metadata;
  }
  const meta = metadata ? { metadata } : {};

  if (v.error !== undefined && v.error !== null) {
    const err = errorText(v.error);
    if (err === undefined) return { kind: 'unusable', reason: '"error" must be a non-empty string' };
    return { kind: 'error', error: err, ...meta };
  }
  const hasAssistant = v.assistant !== undefined && v.assistant !== null;
  const hasId = v.assistantId !== undefined && v.assistantId !== null;
  if (hasAssistant && hasId) {
    return { kind: 'unusable', reason: 'the reply has both "assistant" and "assistantId"; send one' };
  }
  if (hasAssistant) {
    if (!isPlainObject(v.assistant)) return { kind: 'unusable', reason: '"assistant" must be an object' };
    return { kind: 'assistant', assistant: v.assistant, ...meta };
  }
  if (hasId) {
    if (typeof v.assistantId !== 'string' || v.assistantId.trim() === '') {
      return { kind: 'unusable', reason: '"assistantId" must be a non-empty string' };
    }
    const overrides = v.assistantOverrides;
    if (overrides !== undefined && overrides !== null && !isPlainObject(overrides)) {
      return { kind: 'unusable', reason: '"assistantOverrides" must be an object' };
    }
    return {
      kind: 'assistantId',
      assistantId: v.assistantId,
      ...(isPlainObject(overrides) ? { assistantOverrides: overrides } : {}),
      ...meta,
    };
  }
  if (v.assistantOverrides !== undefined && v.assistantOverrides !== null) {
    return { kind: 'unusable', reason: '"assistantOverrides" needs an "assistantId"' };
  }
  return { kind: 'defaults', ...meta };
}
