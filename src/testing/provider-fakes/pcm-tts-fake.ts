/**
 * The shared core of the HTTP PCM TTS protocol fakes (ElevenLabs, OpenAI speech, Deepgram
 * Aura, Cartesia bytes each supply only their wire format to `startPcmTtsFake`).
 *
 * Each fake is a real HTTP server on 127.0.0.1 (port 0) speaking the provider's wire protocol:
 * it checks the auth header, path, query and JSON body (recorded for assertions), answers with
 * a deterministic waveform (`fakeTtsPcm`: a tone whose length is proportional to the text) as
 * raw PCM16 in several chunks split at odd byte offsets with small pauses, and errors with the
 * provider's real error body. Faults are armed for the NEXT request: 500/503, 429 with
 * Retry-After, 401, disconnect mid-stream, stall after the headers, hold back the last chunk.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Audio the fakes make per character of text at speed 1 (ms). */
export const FAKE_TTS_MS_PER_CHAR = 60;

/**
 * The waveform every fake sends for `text`: a 440 Hz tone with a slow amplitude ramp (so a
 * shift by one byte or one sample never matches), `FAKE_TTS_MS_PER_CHAR` per character / speed.
 */
export function fakeTtsPcm(text: string, sampleRate: number, speed = 1): Int16Array {
  const n = Math.round((text.length * FAKE_TTS_MS_PER_CHAR * sampleRate) / 1000 / speed);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const amplitude = 4000 + 4000 * ((i % 997) / 997);
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  }
  return out;
}

export interface RecordedTtsRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
}

/** What a protocol makes of a valid request. */
export interface FakeTtsJob {
  text: string;
  /** The rate the audio is sent at. */
  sampleRate: number;
  speed: number;
}

export interface FakeErrorReply {
  status: number;
  body: unknown;
}

export interface PcmTtsProtocol {
  /** Validates a request (auth included): a job, or the provider's error reply. */
  handle(request: RecordedTtsRequest): FakeTtsJob | FakeErrorReply;
  /** The provider's error body for an injected fault. */
  errorBody(status: number, message: string): unknown;
  /** `content-type` of the audio reply. */
  audioContentType: string;
}

export interface PcmTtsFakeOptions {
  /** The key the fake accepts. Default `test-key`. */
  apiKey?: string;
  /** Chunks per reply (at least 2). Default 5. */
  chunks?: number;
  /** Pause between chunks (ms). Default 5. */
  chunkDelayMs?: number;
  /** Pause before the first audio chunk, after the headers (ms): a provider's time to first byte. Default 0. */
  firstChunkDelayMs?: number;
}

type Fault =
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'disconnect' }
  | { kind: 'stall' }
  | { kind: 'hold'; released: Promise<void> };

export interface PcmTtsFake {
  /** Base URL to give the adapter as `baseUrl`. */
  url: string;
  apiKey: string;
  readonly requests: RecordedTtsRequest[];
  requestCount(): number;
  /** Requests whose response has not closed yet. */
  activeRequests(): number;
  serverError(status?: 500 | 503): void;
  rateLimit(retryAfterSeconds?: number): void;
  unauthorized(): void;
  disconnectMidStream(): void;
  stall(): void;
  /** The next reply sends all but its last chunk, which waits until the returned function is called. */
  holdLastChunk(): () => void;
  close(): Promise<void>;
}

function isJob(x: FakeTtsJob | FakeErrorReply): x is FakeTtsJob {
  return (x as FakeTtsJob).text !== undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Byte ranges of `total` bytes cut into `chunks` pieces at odd offsets (tests the byte carry). */
function oddSplits(total: number, chunks: number): [number, number][] {
  const size = Math.max(1, Math.ceil(total / chunks)) | 1;
  const out: [number, number][] = [];
  for (let start = 0; start < total; start += size) out.push([start, Math.min(total, start + size)]);
  return out;
}

export async function startPcmTtsFake(
  protocol: PcmTtsProtocol,
  options: PcmTtsFakeOptions & { pathPrefix?: string } = {},
): Promise<PcmTtsFake> {
  const apiKey = options.apiKey ?? 'test-key';
  const chunkCount = Math.max(2, options.chunks ?? 5);
  const chunkDelayMs = options.chunkDelayMs ?? 5;
  const firstChunkDelayMs = options.firstChunkDelayMs ?? 0;
  const requests: RecordedTtsRequest[] = [];
  const faults: Fault[] = [];
  let active = 0;

  const sendError = (res: ServerResponse, reply: FakeErrorReply, extra: Record<string, string> = {}) => {
    const text = typeof reply.body === 'string';
    res.writeHead(reply.status, { 'content-type': text ? 'text/plain' : 'application/json', ...extra });
    res.end(text ? reply.body : JSON.stringify(reply.body));
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: RecordedTtsRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: await readBody(req),
    };
    requests.push(recorded);
    const fault = faults.shift();
    if (fault?.kind === 'status') {
      const extra: Record<string, string> =
        fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      const message = fault.status === 401 ? 'Invalid API key' : `injected HTTP ${fault.status}`;
      sendError(res, { status: fault.status, body: protocol.errorBody(fault.status, message) }, extra);
      return;
    }
    const job = protocol.handle(recorded);
    if (!isJob(job)) {
      sendError(res, job);
      return;
    }
    const pcm = fakeTtsPcm(job.text, job.sampleRate, job.speed);
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    res.writeHead(200, { 'content-type': protocol.audioContentType, 'transfer-encoding': 'chunked' });
    if (fault?.kind === 'stall') {
      res.flushHeaders();
      return; // Silence until the client gives up and closes.
    }
    const splits = oddSplits(bytes.length, chunkCount);
    for (const [index, [start, end]] of splits.entries()) {
      if (res.destroyed) return;
      const last = index === splits.length - 1;
      if (fault?.kind === 'disconnect' && index === Math.ceil(splits.length / 2)) {
        res.socket?.destroy();
        return;
      }
      if (last && fault?.kind === 'hold') await Promise.race([fault.released, once(res, 'close')]);
      else if (index > 0) await sleep(chunkDelayMs);
      else if (firstChunkDelayMs > 0) {
        res.flushHeaders();
        await sleep(firstChunkDelayMs);
      }
      if (res.destroyed) return;
      res.write(bytes.subarray(start, end));
    }
    res.end();
  };

  const server = createServer((req, res) => {
    active++;
    res.on('close', () => {
      active--;
    });
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, { status: 500, body: protocol.errorBody(500, String(error)) });
      else res.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${options.pathPrefix ?? ''}`,
    apiKey,
    requests,
    requestCount: () => requests.length,
    activeRequests: () => active,
    serverError: (status = 500) => faults.push({ kind: 'status', status }),
    rateLimit: (retryAfterSeconds = 2) => faults.push({ kind: 'status', status: 429, retryAfterSeconds }),
    unauthorized: () => faults.push({ kind: 'status', status: 401 }),
    disconnectMidStream: () => faults.push({ kind: 'disconnect' }),
    stall: () => faults.push({ kind: 'stall' }),
    holdLastChunk: () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      faults.push({ kind: 'hold', released });
      return release;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
