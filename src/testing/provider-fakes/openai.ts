import {
  asRecord,
  estimateTokens,
  type FakeLlmReply,
  type LlmFake,
  type LlmFakeOptions,
  type LlmWireProtocol,
  num,
  type ObservedLlmRequest,
  splitInPieces,
  sseFrame,
  startSseLlmFake,
  str,
  type WireError,
} from './sse.js';

export type { FakeLlmFault, FakeLlmReply, LlmFake, LlmFakeOptions, RecordedLlmRequest } from './sse.js';

/**
 * OpenAI Chat Completions, streamed: `POST {basePath}/chat/completions` with `stream: true`,
 * `Authorization: Bearer <key>`; answers `data: {chat.completion.chunk}` lines (`delta.content`,
 * `delta.tool_calls` with index/id/name and arguments in pieces), a usage chunk when
 * `stream_options.include_usage`, then `data: [DONE]`. Errors are `{error:{message,type,param,code}}`.
 * Also the fake for OpenAI-compatible servers (`basePath` e.g. `/openai/v1`).
 */
export interface OpenAiFakeOptions extends LlmFakeOptions {
  /** Path prefix of the API. Default `/v1`. */
  basePath?: string;
}

const errorTypes: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Forbidden.' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
  413: { type: 'invalid_request_error', code: null, message: 'Request too large.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
  500: {
    type: 'server_error',
    code: null,
    message: 'The server had an error while processing your request.',
  },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded.' },
};

function openAiError(status: number, message?: string, code?: string, retryAfterSeconds?: number): WireError {
  const known = errorTypes[status] ?? errorTypes[status >= 500 ? 500 : 400]!;
  return {
    status,
    body: {
      error: { message: message ?? known.message, type: known.type, param: null, code: code ?? known.code },
    },
    headers:
      status === 429
        ? { 'retry-after': String(retryAfterSeconds ?? 1), 'x-ratelimit-remaining-requests': '0' }
        : undefined,
  };
}

export function openAiProtocol(basePath = '/v1'): LlmWireProtocol {
  return {
    basePath,
    route: (method, url) =>
      method === 'POST' && url.pathname === `${basePath}/chat/completions` ? {} : undefined,
    authorize: (headers, _url, apiKey) =>
      headers.authorization === `Bearer ${apiKey}`
        ? undefined
        : openAiError(
            401,
            headers.authorization
              ? 'Incorrect API key provided.'
              : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.",
          ),
    error: (f) => openAiError(f.status, f.message, f.code, f.retryAfterSeconds),
    // OpenAI reports a failure after the stream started as a chunk holding only `error`.
    streamError: (status, message) => sseFrame(asRecord(openAiError(status, message).body) ?? {}),
    observe: (body): ObservedLlmRequest => {
      const b = asRecord(body) ?? {};
      const messages = Array.isArray(b.messages) ? b.messages.map((m) => asRecord(m) ?? {}) : [];
      const system = messages.filter((m) => m.role === 'system' || m.role === 'developer');
      return {
        model: str(b.model),
        system: system.length ? system.map((m) => contentText(m.content)).join('\n\n') : undefined,
        temperature: num(b.temperature),
        maxTokens: num(b.max_tokens) ?? num(b.max_completion_tokens),
        tools: (Array.isArray(b.tools) ? b.tools : []).map((t) => {
          const fn = asRecord(asRecord(t)?.function) ?? {};
          return { name: str(fn.name) ?? '', description: str(fn.description), parameters: fn.parameters };
        }),
        messageCount: messages.length - system.length,
      };
    },
    encode: (reply, request) => encodeChatCompletion(reply, request.body),
  };
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => str(asRecord(p)?.text) ?? '').join('');
  return '';
}

let counter = 0;

function encodeChatCompletion(reply: FakeLlmReply, body: unknown): string[][] {
  const b = asRecord(body) ?? {};
  const id = `chatcmpl-fake${++counter}`;
  const created = Math.floor(Date.now() / 1000);
  const model = str(b.model) ?? 'gpt-fake';
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseFrame({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices,
      ...extra,
    });
  const delta = (d: Record<string, unknown>, finish: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);

  const groups: string[][] = [];
  const text = reply.text ?? [];
  const start = delta({ role: 'assistant', content: '', refusal: null });
  text.forEach((piece, i) => {
    groups.push(i === 0 ? [start, delta({ content: piece })] : [delta({ content: piece })]);
  });
  const end: string[] = groups.length ? [] : [start];
  (reply.toolCalls ?? []).forEach((call, index) => {
    const callId = call.id ?? `call_fake${counter}_${index}`;
    end.push(
      delta({
        tool_calls: [{ index, id: callId, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    );
    for (const piece of splitInPieces(JSON.stringify(call.arguments))) {
      end.push(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  end.push(delta({}, reply.toolCalls?.length ? 'tool_calls' : 'stop'));
  const streamOptions = asRecord(b.stream_options);
  if (streamOptions?.include_usage === true) {
    const usage = reply.usage ?? {
      inputTokens: estimateTokens(JSON.stringify(b.messages ?? '')),
      outputTokens: estimateTokens(text.join('') + JSON.stringify(reply.toolCalls ?? '')),
    };
    end.push(
      chunk([], {
        usage: {
          prompt_tokens: usage.inputTokens,
          completion_tokens: usage.outputTokens,
          total_tokens: usage.inputTokens + usage.outputTokens,
        },
      }),
    );
  }
  end.push(sseFrame('[DONE]'));
  groups.push(end);
  return groups;
}

export function startOpenAiFake(options: OpenAiFakeOptions = {}): Promise<LlmFake> {
  return startSseLlmFake(openAiProtocol(options.basePath), options);
}
