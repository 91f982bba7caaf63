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
 * Anthropic Messages, streamed: `POST /v1/messages` with `x-api-key` and `anthropic-version`;
 * answers SSE `message_start`, `content_block_start` (text / tool_use), `content_block_delta`
 * (`text_delta` / `input_json_delta` in pieces), `content_block_stop`, `message_delta` (stop
 * reason, output usage), `message_stop`. Errors are `{type:'error',error:{type,message}}`
 * (529 `overloaded_error`).
 */
const errorTypes: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request.' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  403: {
    type: 'permission_error',
    message: 'Your API key does not have permission to use the specified resource.',
  },
  404: { type: 'not_found_error', message: 'The requested resource could not be found.' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: {
    type: 'rate_limit_error',
    message: 'Number of request tokens has exceeded your per-minute rate limit.',
  },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

function anthropicError(status: number, message?: string, retryAfterSeconds?: number): WireError {
  const known = errorTypes[status] ?? errorTypes[status >= 500 ? 500 : 400]!;
  return {
    status,
    body: { type: 'error', error: { type: known.type, message: message ?? known.message } },
    headers: {
      'request-id': `req_fake${Date.now()}`,
      ...(status === 429 ? { 'retry-after': String(retryAfterSeconds ?? 1) } : {}),
    },
  };
}

export const anthropicProtocol: LlmWireProtocol = {
  basePath: '/v1',
  route: (method, url) => (method === 'POST' && url.pathname === '/v1/messages' ? {} : undefined),
  authorize: (headers, _url, apiKey) => {
    if (headers['x-api-key'] !== apiKey) return anthropicError(401);
    if (typeof headers['anthropic-version'] !== 'string')
      return anthropicError(400, 'anthropic-version: header is required');
    return undefined;
  },
  error: (f) => anthropicError(f.status, f.message, f.retryAfterSeconds),
  // e.g. `event: error` / `{"type":"error","error":{"type":"overloaded_error",...}}` mid-stream.
  streamError: (status, message) => sseFrame(anthropicError(status, message).body, 'error'),
  observe: (body): ObservedLlmRequest => {
    const b = asRecord(body) ?? {};
    const system = Array.isArray(b.system)
      ? b.system.map((p) => str(asRecord(p)?.text) ?? '').join('\n\n')
      : str(b.system);
    return {
      model: str(b.model),
      system,
      temperature: num(b.temperature),
      maxTokens: num(b.max_tokens),
      tools: (Array.isArray(b.tools) ? b.tools : []).map((t) => {
        const tool = asRecord(t) ?? {};
        return {
          name: str(tool.name) ?? '',
          description: str(tool.description),
          parameters: tool.input_schema,
        };
      }),
      messageCount: Array.isArray(b.messages) ? b.messages.length : 0,
    };
  },
  encode: (reply, request) => encodeMessage(reply, request.body),
};

let counter = 0;

function encodeMessage(reply: FakeLlmReply, body: unknown): string[][] {
  const b = asRecord(body) ?? {};
  const n = ++counter;
  const text = reply.text ?? [];
  const usage = reply.usage ?? {
    inputTokens: estimateTokens(JSON.stringify(b.messages ?? '') + JSON.stringify(b.system ?? '')),
    outputTokens: estimateTokens(text.join('') + JSON.stringify(reply.toolCalls ?? '')),
  };
  const ev = (data: Record<string, unknown>) => sseFrame(data, data.type as string);
  const start = [
    ev({
      type: 'message_start',
      message: {
        id: `msg_fake${n}`,
        type: 'message',
        role: 'assistant',
        model: str(b.model) ?? 'claude-fake',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.inputTokens, output_tokens: 1 },
      },
    }),
    ev({ type: 'ping' }),
  ];
  const groups: string[][] = [];
  let index = 0;
  if (text.length) {
    text.forEach((piece, i) => {
      const delta = ev({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
      groups.push(
        i === 0
          ? [
              ...start,
              ev({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }),
              delta,
            ]
          : [delta],
      );
    });
  }
  const end: string[] = groups.length ? [] : [...start];
  if (text.length) end.push(ev({ type: 'content_block_stop', index: index++ }));
  (reply.toolCalls ?? []).forEach((call, i) => {
    end.push(
      ev({
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: call.id ?? `toolu_fake${n}_${i}`, name: call.name, input: {} },
      }),
    );
    for (const piece of splitInPieces(JSON.stringify(call.arguments))) {
      end.push(
        ev({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } }),
      );
    }
    end.push(ev({ type: 'content_block_stop', index: index++ }));
  });
  end.push(
    ev({
      type: 'message_delta',
      delta: { stop_reason: reply.toolCalls?.length ? 'tool_use' : 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.outputTokens },
    }),
    ev({ type: 'message_stop' }),
  );
  groups.push(end);
  return groups;
}

export function startAnthropicFake(options: LlmFakeOptions = {}): Promise<LlmFake> {
  return startSseLlmFake(anthropicProtocol, options);
}
