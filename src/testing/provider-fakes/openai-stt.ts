/**
 * A local OpenAI audio-transcription server (`POST /v1/audio/transcriptions`) speaking the real
 * wire protocol, for tests of the OpenAI STT adapter.
 *
 * - Request: multipart/form-data with `file` (checked to be a mono PCM16 WAV), `model`,
 *   optional `language`, `response_format`, `stream`, `include[]`, `prompt`;
 *   `Authorization: Bearer <key>`.
 * - Reply: JSON `{text, usage, logprobs?}`, or with `stream=true` Server-Sent Events
 *   `transcript.text.delta` … `transcript.text.done` (refused for `whisper-1`, as OpenAI does).
 * - Errors in OpenAI's shape `{error: {message, type, param, code}}`; faults arm the next request:
 *   401, 429 with `Retry-After`, 500, a stall (no answer), a disconnect mid-body.
 *
 * Scripted texts are used in turn (the last repeats); audio whose peak stays under
 * `speechThreshold` transcribes as '' (as silence usually does).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeWav } from '../../audio/wav.js';

/**
 * `stall`: never answers; `stallMidStream`: sends the headers and the first delta (or half the
 * JSON), then nothing; `disconnect`: the same, then drops the connection.
 */
export type OpenAiSttFakeFault =
  | 'unauthorized'
  | 'rateLimit'
  | 'serverError'
  | 'stall'
  | 'stallMidStream'
  | 'disconnect';

export interface OpenAiSttFakeOptions {
  /** The accepted key. Default 'sk-test-key'. */
  apiKey?: string;
  /** Transcripts, one per request in turn (the last repeats). */
  texts?: string[];
  /** Peak amplitude under which audio counts as silence. Default 500. */
  speechThreshold?: number;
  /** Pause between SSE deltas (ms). Default 0. */
  deltaDelayMs?: number;
}

export interface OpenAiSttFakeRequest {
  authorization: string | undefined;
  model: string;
  language: string | undefined;
  responseFormat: string | undefined;
  stream: boolean;
  include: string[];
  prompt: string | undefined;
  fileName: string | undefined;
  fileType: string | undefined;
  sampleRate: number;
  channels: number;
  durationMs: number;
  peak: number;
  status: number;
}

export interface OpenAiSttFake {
  /** Base URL for the adapter's `baseUrl` (`http://127.0.0.1:<port>/v1`). */
  url: string;
  apiKey: string;
  /** Requests that passed the auth/fault checks and were parsed. */
  requests: OpenAiSttFakeRequest[];
  /** Every request received (faulted ones included). */
  readonly received: number;
  failNext(fault: OpenAiSttFakeFault): void;
  setTexts(texts: string[]): void;
  close(): Promise<void>;
}

const MODELS = new Set(['whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe']);
/** OpenAI's upload limit. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;

export async function startOpenAiSttFake(options: OpenAiSttFakeOptions = {}): Promise<OpenAiSttFake> {
  const apiKey = options.apiKey ?? 'sk-test-key';
  const threshold = options.speechThreshold ?? 500;
  let texts = options.texts ?? ['Book a table for two.'];
  let textIndex = 0;
  let armed: OpenAiSttFakeFault | undefined;
  let received = 0;
  const requests: OpenAiSttFakeRequest[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'server_error', String(error));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions') {
      return sendError(res, 404, 'invalid_request_error', `Invalid URL (${req.method} ${req.url})`);
    }
    const fault = armed;
    armed = undefined;
    received++;
    const body = await readBody(req);
    if (body === undefined)
      return sendError(res, 413, 'invalid_request_error', 'Maximum content size exceeded.');
    if (fault === 'unauthorized' || req.headers.authorization !== `Bearer ${apiKey}`) {
      return sendError(res, 401, 'invalid_request_error', 'Incorrect API key provided.', 'invalid_api_key');
    }
    if (fault === 'rateLimit') {
      res.setHeader('retry-after', '1');
      return sendError(res, 429, 'requests', 'Rate limit reached for requests.', 'rate_limit_exceeded');
    }
    if (fault === 'serverError') return sendError(res, 500, 'server_error', 'The server had an error.');
    if (fault === 'stall') return; // never answers

    // A library parses the multipart body: the Fetch API's Request.formData().
    let form: FormData;
    try {
      form = await new Request('http://fake/', {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? '' },
        body,
      }).formData();
    } catch (error) {
      return sendError(res, 400, 'invalid_request_error', `Could not parse multipart form: ${error}`);
    }
    const file = form.get('file');
    const model = String(form.get('model') ?? '');
    const stream = form.get('stream') === 'true';
    const record: OpenAiSttFakeRequest = {
      authorization: req.headers.authorization,
      model,
      language: str(form.get('language')),
      responseFormat: str(form.get('response_format')),
      stream,
      include: form.getAll('include[]').map(String),
      prompt: str(form.get('prompt')),
      fileName: typeof file === 'string' || !file ? undefined : file.name,
      fileType: typeof file === 'string' || !file ? undefined : file.type,
      sampleRate: 0,
      channels: 0,
      durationMs: 0,
      peak: 0,
      status: 200,
    };
    requests.push(record);
    const fail = (status: number, message: string, param?: string) => {
      record.status = status;
      sendError(res, status, 'invalid_request_error', message, null, param);
    };
    if (!file || typeof file === 'string') return fail(400, "you must provide a 'file'", 'file');
    if (!MODELS.has(model)) return fail(400, `Invalid model '${model}'`, 'model');
    if (stream && model === 'whisper-1')
      return fail(400, "Streaming is not supported for the 'whisper-1' model.", 'stream');
    if (record.responseFormat !== undefined && !['json', 'text'].includes(record.responseFormat))
      return fail(400, `Unsupported response_format '${record.responseFormat}'`, 'response_format');
    if (record.language !== undefined && !/^[a-z]{2,3}$/.test(record.language))
      return fail(400, `Invalid language '${record.language}' (ISO-639-1)`, 'language');
    let wav: ReturnType<typeof decodeWav>;
    try {
      wav = decodeWav(new Uint8Array(await file.arrayBuffer()));
    } catch (error) {
      return fail(400, `Invalid file format: ${(error as Error).message}`, 'file');
    }
    record.sampleRate = wav.sampleRate;
    record.channels = wav.channels;
    record.durationMs = (wav.samples.length * 1000) / wav.sampleRate / wav.channels;
    for (const s of wav.samples) record.peak = Math.max(record.peak, Math.abs(s));
    if (wav.channels !== 1) return fail(400, 'expected mono audio', 'file');
    if (record.durationMs < 100)
      return fail(400, 'Audio file is too short. Minimum audio length is 0.1 seconds.', 'file');

    const text = record.peak >= threshold ? (texts[Math.min(textIndex++, texts.length - 1)] ?? '') : '';
    const tokens = text.match(/\S+\s*/g) ?? [];
    const logprobs = record.include.includes('logprobs') && model !== 'whisper-1';
    const tokenLogprobs = tokens.map((token) => ({ token, logprob: -0.05, bytes: [...Buffer.from(token)] }));
    const usage =
      model === 'whisper-1'
        ? { type: 'duration', seconds: Math.ceil(record.durationMs / 1000) }
        : {
            type: 'tokens',
            input_tokens: 20,
            output_tokens: tokens.length,
            total_tokens: 20 + tokens.length,
          };

    if (!stream) {
      const json = JSON.stringify({ text, usage, ...(logprobs ? { logprobs: tokenLogprobs } : {}) });
      res.writeHead(200, { 'content-type': 'application/json' });
      if (fault === 'disconnect' || fault === 'stallMidStream') {
        res.write(json.slice(0, Math.floor(json.length / 2)));
        if (fault === 'disconnect') res.socket?.destroy();
        return;
      }
      res.end(json);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const event = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    for (const [i, token] of tokens.entries()) {
      event({
        type: 'transcript.text.delta',
        delta: token,
        ...(logprobs ? { logprobs: [tokenLogprobs[i]] } : {}),
      });
      if (fault === 'disconnect' || fault === 'stallMidStream') {
        if (fault === 'disconnect') res.socket?.destroy();
        return;
      }
      if (options.deltaDelayMs) await new Promise((r) => setTimeout(r, options.deltaDelayMs));
    }
    event({ type: 'transcript.text.done', text, usage, ...(logprobs ? { logprobs: tokenLogprobs } : {}) });
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey,
    requests,
    get received() {
      return received;
    },
    failNext(fault) {
      armed = fault;
    },
    setTexts(next) {
      texts = next;
      textIndex = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function str(value: ReturnType<FormData['get']>): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  code: string | null = null,
  param: string | null = null,
): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type, param, code } }));
}
