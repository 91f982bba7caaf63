import {
  asRecord,
  estimateTokens,
  type FakeLlmReply,
  type LlmFake,
  type LlmFakeOptions,
  type LlmWireProtocol,
  num,
  type ObservedLlmRequest,
  sseFrame,
  startSseLlmFake,
  str,
  type WireError,
} from './sse.js';

export type { FakeLlmFault, FakeLlmReply, LlmFake, LlmFakeOptions, RecordedLlmRequest } from './sse.js';

/**
 * Gemini (Generative Language API), streamed: `POST /v1beta/models/{model}:streamGenerateContent
 * ?alt=sse` with `x-goog-api-key` (or `?key=`); answers `data: {GenerateContentResponse}` lines
 * with `candidates[0].content.parts` (`text`, or a whole `functionCall` — Gemini does not stream
 * arguments nor give call ids), `finishReason` and `usageMetadata`. Errors are
 * `{error:{code,message,status,details}}`; a wrong key is Google's real answer, HTTP 400
 * `INVALID_ARGUMENT` with reason `API_KEY_INVALID` (no key at all: 403 `PERMISSION_DENIED`).
 */
const statuses: Record<number, { status: string; message: string }> = {
  400: { status: 'INVALID_ARGUMENT', message: 'Request contains an invalid argument.' },
  401: { status: 'UNAUTHENTICATED', message: 'Request had invalid authentication credentials.' },
  403: { status: 'PERMISSION_DENIED', message: "Method doesn't allow unregistered callers." },
  404: { status: 'NOT_FOUND', message: 'models/unknown is not found for API version v1beta.' },
  413: { status: 'INVALID_ARGUMENT', message: 'Request payload size exceeds the limit.' },
  429: { status: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).' },
  500: { status: 'INTERNAL', message: 'An internal error has occurred.' },
  503: { status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' },
};

function geminiError(
  status: number,
  message?: string,
  retryAfterSeconds?: number,
  details?: unknown[],
): WireError {
  const known = statuses[status] ?? statuses[status >= 500 ? 500 : 400]!;
  const retry =
    status === 429
      ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds ?? 1}s` }]
      : [];
  return {
    status,
    body: {
      error: {
        code: status,
        message: message ?? known.message,
        status: known.status,
        details: [...retry, ...(details ?? [])],
      },
    },
  };
}

/** Google's answer to a wrong API key. */
export const geminiInvalidKeyError = (): WireError =>
  geminiError(400, 'API key not valid. Please pass a valid API key.', undefined, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
    },
  ]);

const pathPattern = /^\/v1beta\/models\/([^/:]+):streamGenerateContent$/;

export const geminiProtocol: LlmWireProtocol = {
  basePath: '/v1beta',
  route: (method, url) => {
    const m = pathPattern.exec(url.pathname);
    return method === 'POST' && m && url.searchParams.get('alt') === 'sse'
      ? { model: decodeURIComponent(m[1] as string) }
      : undefined;
  },
  authorize: (headers, url, apiKey) => {
    const key = headers['x-goog-api-key'] ?? url.searchParams.get('key') ?? undefined;
    if (key === undefined)
      return geminiError(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    return key === apiKey ? undefined : geminiInvalidKeyError();
  },
  error: (f) =>
    f.code === 'API_KEY_INVALID'
      ? geminiInvalidKeyError()
      : geminiError(f.status, f.message, f.retryAfterSeconds),
  // A chunk holding `error` ({code,message,status}) instead of candidates.
  streamError: (status, message) => sseFrame(geminiError(status, message).body),
  observe: (body, route): ObservedLlmRequest => {
    const b = asRecord(body) ?? {};
    const system = asRecord(b.systemInstruction);
    const config = asRecord(b.generationConfig) ?? {};
    const declarations = (Array.isArray(b.tools) ? b.tools : []).flatMap((t) => {
      const d = asRecord(t)?.functionDeclarations;
      return Array.isArray(d) ? d.map((x) => asRecord(x) ?? {}) : [];
    });
    return {
      model: route.model,
      system: Array.isArray(system?.parts)
        ? system.parts.map((p) => str(asRecord(p)?.text) ?? '').join('\n\n')
        : undefined,
      temperature: num(config.temperature),
      maxTokens: num(config.maxOutputTokens),
      tools: declarations.map((d) => ({
        name: str(d.name) ?? '',
        description: str(d.description),
        parameters: d.parameters,
      })),
      messageCount: Array.isArray(b.contents) ? b.contents.length : 0,
    };
  },
  encode: (reply, request) => encodeGenerateContent(reply, request),
};

let counter = 0;

function encodeGenerateContent(
  reply: FakeLlmReply,
  request: { body: unknown; observed: ObservedLlmRequest },
): string[][] {
  const b = asRecord(request.body) ?? {};
  const responseId = `fake-${++counter}`;
  const modelVersion = request.observed.model ?? 'gemini-fake';
  const text = reply.text ?? [];
  const usage = reply.usage ?? {
    inputTokens: estimateTokens(JSON.stringify(b.contents ?? '') + JSON.stringify(b.systemInstruction ?? '')),
    outputTokens: estimateTokens(text.join('') + JSON.stringify(reply.toolCalls ?? '')),
  };
  const usageMetadata = (final: boolean) => ({
    promptTokenCount: usage.inputTokens,
    ...(final ? { candidatesTokenCount: usage.outputTokens } : {}),
    totalTokenCount: usage.inputTokens + (final ? usage.outputTokens : 0),
  });
  const chunk = (parts: unknown[], final: boolean) =>
    sseFrame({
      candidates: [
        { content: { parts, role: 'model' }, index: 0, ...(final ? { finishReason: 'STOP' } : {}) },
      ],
      usageMetadata: usageMetadata(final),
      modelVersion,
      responseId,
    });
  const calls = (reply.toolCalls ?? []).map((c) => ({
    functionCall: { ...(c.id ? { id: c.id } : {}), name: c.name, args: c.arguments },
  }));
  const groups: string[][] = text.map((piece, i) => [
    chunk([{ text: piece }], i === text.length - 1 && calls.length === 0),
  ]);
  if (calls.length || groups.length === 0) groups.push([chunk(calls.length ? calls : [{ text: '' }], true)]);
  return groups;
}

export function startGeminiFake(options: LlmFakeOptions = {}): Promise<LlmFake> {
  return startSseLlmFake(geminiProtocol, options);
}
