import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The shared core of the LLM protocol fakes (OpenAI, Anthropic, Gemini): an HTTP server on
 * 127.0.0.1, port 0, that checks auth, records requests, and streams scripted replies as
 * Server-Sent Events in the provider's own wire format, or fails the way the real service
 * does (status + error body, a connection cut mid-stream, a stall). Hand-written because no
 * library fakes these protocols; each provider file supplies only its wire format.
 */

/** What the fake answers to one request. */
export interface FakeLlmReply {
  /** Text sent as these separate pieces (one wire chunk each). */
  text?: string[];
  /** Pause between pieces (ms). Default 0. */
  pieceDelayMs?: number;
  /** Everything after the first piece waits for this promise. */
  holdAfterFirst?: Promise<void>;
  /** Tool calls after the text (arguments streamed in pieces where the protocol does that). */
  toolCalls?: { id?: string; name: string; arguments: Record<string, unknown> }[];
  /** Reported usage. Default: estimated from the request and reply sizes. */
  usage?: { inputTokens: number; outputTokens: number };
}

/** A failure for one request. */
export type FakeLlmFault =
  /** An HTTP error with the provider's error body (429 adds `Retry-After`). */
  | { kind: 'status'; status: number; message?: string; code?: string; retryAfterSeconds?: number }
  /** Stream `afterPieces` pieces of the reply (default 2), then destroy the socket. */
  | { kind: 'disconnect'; afterPieces?: number }
  /** Send the response headers (or nothing, with `headers: false`), then stay silent. */
  | { kind: 'stall'; headers?: boolean }
  /**
   * Stream `afterPieces` pieces (default 2), then the provider's in-stream error event for
   * `status` (default 500; 529 is Anthropic's "overloaded"), and end the response.
   */
  | { kind: 'stream-error'; afterPieces?: number; status?: number; message?: string };

/** The request, normalised from the wire format (for assertions). */
export interface ObservedLlmRequest {
  model?: string;
  system?: string;
  temperature?: number;
  maxTokens?: number;
  tools: { name: string; description?: string; parameters?: unknown }[];
  /** Non-system messages on the wire. */
  messageCount: number;
}

export interface RecordedLlmRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body. */
  body: unknown;
  observed: ObservedLlmRequest;
  /** How the response ended: sent completely, or the client closed the connection first. */
  ended: Promise<'completed' | 'client-closed'>;
}

export interface LlmFakeOptions {
  /** The key the fake accepts. Default `test-key`; `null`: no auth (a local server). */
  apiKey?: string | null;
  /** Answers a request (a reply or a fault). Queued replies/faults take precedence. */
  respond?: (request: RecordedLlmRequest) => FakeLlmReply | FakeLlmFault;
}

export interface LlmFake {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** What to pass as the adapter's `baseUrl` (`url` plus the protocol's version prefix). */
  baseUrl: string;
  /** The accepted key (undefined when auth is off). */
  apiKey: string | undefined;
  requests: RecordedLlmRequest[];
  /** Resolves when the fake receives its next request (recorded, before it answers). */
  nextRequest(): Promise<RecordedLlmRequest>;
  /** Queue the answer to the next request (first in, first out). */
  reply(reply: FakeLlmReply): void;
  /** Arm a fault for the next request (before queued replies). */
  fail(fault: FakeLlmFault): void;
  /** Shorthands for `fail`. */
  failWithStatus(
    status: number,
    extra?: Omit<Extract<FakeLlmFault, { kind: 'status' }>, 'kind' | 'status'>,
  ): void;
  disconnectMidStream(afterPieces?: number): void;
  stall(): void;
  /** A few pieces, then the provider's in-stream error event (default status 500). */
  errorMidStream(status?: number): void;
  /** Replace the default responder. */
  respond: LlmFakeOptions['respond'];
  close(): Promise<void>;
}

/** What an error looks like on a provider's wire. */
export interface WireError {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A provider's wire format, as the core needs it. */
export interface LlmWireProtocol {
  /** Version prefix the SDK puts before its paths, e.g. `/v1`. */
  basePath: string;
  /** Whether this method + path is the streaming chat endpoint; returns the model named in the path, if any. */
  route(method: string, url: URL): { model?: string } | undefined;
  /** An error response if the request is not authorized with `apiKey`, else undefined. */
  authorize(headers: IncomingHttpHeaders, url: URL, apiKey: string): WireError | undefined;
  /** The provider's error response for a status fault. */
  error(fault: Extract<FakeLlmFault, { kind: 'status' }>): WireError;
  /** The provider's error event inside an SSE stream that had started fine. */
  streamError(status: number, message?: string): string;
  /** The SSE frames for a reply, grouped: group i is sent as piece i (first, each further text piece, the end). */
  encode(reply: FakeLlmReply, request: RecordedLlmRequest): string[][];
  observe(body: unknown, route: { model?: string }): ObservedLlmRequest;
}

export const sseFrame = (data: unknown, event?: string): string =>
  `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

/** Rough token estimate for default usage (4 characters a token). */
export const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/** Breaks a JSON string into a few pieces, as providers stream tool arguments. */
export function splitInPieces(text: string, pieces = 3): string[] {
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

const defaultReply = (request: RecordedLlmRequest): FakeLlmReply => ({
  text: ['Hello', ' from', ' the fake', ` (${request.observed.messageCount} messages).`],
});

const maxBodyBytes = 32 * 1024 * 1024;

export async function startSseLlmFake(
  protocol: LlmWireProtocol,
  options: LlmFakeOptions = {},
): Promise<LlmFake> {
  const apiKey = options.apiKey === null ? undefined : (options.apiKey ?? 'test-key');
  const requests: RecordedLlmRequest[] = [];
  const replies: FakeLlmReply[] = [];
  const faults: FakeLlmFault[] = [];
  const sockets = new Set<Socket>();
  const waiters: ((request: RecordedLlmRequest) => void)[] = [];

  const sendError = (res: ServerResponse, e: WireError) => {
    const body = JSON.stringify(e.body);
    res.writeHead(e.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...e.headers,
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = protocol.route(req.method ?? 'GET', url);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBodyBytes) {
        sendError(res, protocol.error({ kind: 'status', status: 413, message: 'Request too large' }));
        return;
      }
      chunks.push(chunk);
    }
    if (!route) {
      sendError(
        res,
        protocol.error({ kind: 'status', status: 404, message: `No route ${req.method} ${url.pathname}` }),
      );
      return;
    }
    const unauthorized = apiKey === undefined ? undefined : protocol.authorize(req.headers, url, apiKey);
    if (unauthorized) {
      sendError(res, unauthorized);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      sendError(res, protocol.error({ kind: 'status', status: 400, message: 'Body is not valid JSON' }));
      return;
    }
    let completed = false;
    const ended = new Promise<'completed' | 'client-closed'>((resolve) => {
      res.on('close', () => resolve(completed ? 'completed' : 'client-closed'));
    });
    const recorded: RecordedLlmRequest = {
      method: req.method ?? 'POST',
      path: url.pathname + url.search,
      headers: req.headers,
      body,
      observed: protocol.observe(body, route),
      ended,
    };
    requests.push(recorded);
    for (const waiter of waiters.splice(0)) waiter(recorded);

    const answer: FakeLlmReply | FakeLlmFault =
      faults.shift() ?? replies.shift() ?? fake.respond?.(recorded) ?? defaultReply(recorded);
    if ('kind' in answer && answer.kind === 'status') {
      completed = true;
      sendError(res, protocol.error(answer));
      return;
    }
    if ('kind' in answer && answer.kind === 'stall') {
      if (answer.headers !== false) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.flushHeaders();
      }
      return; // silence until the client gives up (or close() destroys the socket)
    }
    const cutAfter =
      'kind' in answer && (answer.kind === 'disconnect' || answer.kind === 'stream-error')
        ? Math.max(1, answer.afterPieces ?? 2)
        : undefined;
    const reply: FakeLlmReply =
      'kind' in answer
        ? { text: ['This', ' reply', ' will', ' be', ' cut', ' short.'] }
        : (answer as FakeLlmReply);
    const groups = protocol.encode(reply, recorded);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (let i = 0; i < groups.length; i++) {
      if (res.destroyed) return;
      if (cutAfter !== undefined && i >= cutAfter) {
        if ('kind' in answer && answer.kind === 'stream-error') {
          completed = true;
          res.end(protocol.streamError(answer.status ?? 500, answer.message));
        } else {
          req.socket.destroy();
        }
        return;
      }
      if (i === 1 && reply.holdAfterFirst) await reply.holdAfterFirst;
      if (i > 0 && reply.pieceDelayMs) await new Promise((r) => setTimeout(r, reply.pieceDelayMs));
      if (res.destroyed) return;
      // Wait until each group is handed to the socket, so a disconnect after it cuts a stream
      // the client has really started to receive.
      await new Promise<void>((resolve) => {
        res.write((groups[i] as string[]).join(''), () => resolve());
      });
    }
    completed = true;
    res.end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendError(res, protocol.error({ kind: 'status', status: 500, message: String(error) }));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: LlmFake = {
    url,
    baseUrl: url + protocol.basePath,
    apiKey,
    requests,
    respond: options.respond,
    nextRequest: () =>
      new Promise<RecordedLlmRequest>((resolve) => {
        waiters.push(resolve);
      }),
    reply: (reply) => {
      replies.push(reply);
    },
    fail: (fault) => {
      faults.push(fault);
    },
    failWithStatus: (status, extra) => {
      faults.push({ kind: 'status', status, ...extra });
    },
    disconnectMidStream: (afterPieces) => {
      faults.push({ kind: 'disconnect', afterPieces });
    },
    stall: () => {
      faults.push({ kind: 'stall' });
    },
    errorMidStream: (status) => {
      faults.push({ kind: 'stream-error', status });
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

/** Reads `record[key]` if it is an object. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
export const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
