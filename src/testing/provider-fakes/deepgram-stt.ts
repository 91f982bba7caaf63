/**
 * A local Deepgram live-transcription server speaking the real wire protocol
 * (`wss://api.deepgram.com/v1/listen`), for tests of the Deepgram STT adapter.
 *
 * - Upgrade: `GET /v1/listen?model=…&encoding=linear16&sample_rate=…` with
 *   `Authorization: Token <key>`; a wrong key, bad parameters or an armed fault are refused the
 *   way Deepgram refuses them (HTTP status, `dg-error` header, JSON `{err_code, err_msg,
 *   request_id}` body).
 * - Up: binary linear16 audio, and JSON `KeepAlive`, `Finalize`, `CloseStream`.
 * - Down: `Metadata`, `SpeechStarted` (with `vad_events=true`), `Results` (interim and final,
 *   `speech_final`, `from_finalize`), closing with 1000 after `CloseStream`, or 1011 `NET-0001`
 *   when no audio/KeepAlive arrives within `noAudioTimeoutMs`.
 *
 * Transcripts are scripted per utterance: the fake hears "speech" where the audio's peak is
 * above `speechThreshold` (tests push a tone), and after `interimAfterMs` of it sends the
 * interims, after `finalAfterMs` (if set) an endpointed final; `Finalize` finalises the
 * utterance in progress (`from_finalize: true`; an empty transcript when nothing was heard).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

export interface DeepgramSttFakeUtterance {
  /** The final transcript. */
  text: string;
  /** Interim transcripts sent (in order, all at once) after `interimAfterMs` of speech. */
  interim?: string[];
  /** Speech (ms) heard before the interims are sent. Default 100. */
  interimAfterMs?: number;
  /** Speech (ms) after which the fake endpoints by itself (`speech_final`); default: only on Finalize. */
  finalAfterMs?: number;
  /**
   * The final as several `is_final` segments (Deepgram finalises long speech piecewise); the
   * last one carries `speech_final`/`from_finalize`. Default: one segment, `text`.
   */
  segments?: string[];
  /** Default 0.97. */
  confidence?: number;
}

/**
 * `stall`: accepts the upgrade, then never sends anything; `stallUpgrade`: never answers the
 * upgrade; `disconnect`: drops the TCP connection after `disconnectAfterMs` of audio.
 */
export type DeepgramSttFakeFault =
  | 'unauthorized'
  | 'rateLimit'
  | 'serverError'
  | 'disconnect'
  | 'stall'
  | 'stallUpgrade';

export interface DeepgramSttFakeOptions {
  /** The accepted key. Default 'dg-test-key'. */
  apiKey?: string;
  /** Utterances, used in turn per connection (the last one repeats). */
  script?: DeepgramSttFakeUtterance[];
  /** Peak amplitude above which audio counts as speech. Default 500. */
  speechThreshold?: number;
  /** Close 1011 `NET-0001` after this long without audio or KeepAlive (Deepgram: 10 s). Default off. */
  noAudioTimeoutMs?: number;
  /** For `disconnect`: drop the connection after this much audio (ms). Default 200. */
  disconnectAfterMs?: number;
}

export interface DeepgramSttFakeConnection {
  query: URLSearchParams;
  authorization: string | undefined;
  /** Audio received (ms, at the connection's sample rate). */
  audioMs: number;
  /** Control messages received, by type, in order. */
  controlMessages: string[];
  /** Every JSON message sent to the client. */
  sent: Record<string, unknown>[];
  /** Resolves when the connection is gone; the close code the server saw. */
  closed: Promise<number>;
}

export interface DeepgramSttFake {
  /** Base URL for the adapter's `baseUrl` (`ws://127.0.0.1:<port>/v1`). */
  url: string;
  apiKey: string;
  connections: DeepgramSttFakeConnection[];
  /** Arms a fault for the next connection only. */
  failNext(fault: DeepgramSttFakeFault): void;
  /** Replaces the script for the following connections. */
  setScript(script: DeepgramSttFakeUtterance[]): void;
  close(): Promise<void>;
}

const DEFAULT_SCRIPT: DeepgramSttFakeUtterance[] = [
  { text: 'Book a table for two.', interim: ['book a', 'book a table'] },
];

export async function startDeepgramSttFake(options: DeepgramSttFakeOptions = {}): Promise<DeepgramSttFake> {
  const apiKey = options.apiKey ?? 'dg-test-key';
  const threshold = options.speechThreshold ?? 500;
  let script = options.script ?? DEFAULT_SCRIPT;
  let armed: DeepgramSttFakeFault | undefined;
  const connections: DeepgramSttFakeConnection[] = [];
  const sockets = new Set<Socket>();
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade required');
  });
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ noServer: true });

  function refuse(socket: Socket, status: number, errCode: string, message: string, extra = ''): void {
    const requestId = randomUUID();
    const body = JSON.stringify({ err_code: errCode, err_msg: message, request_id: requestId });
    socket.end(
      `HTTP/1.1 ${status} ${statusText(status)}\r\n` +
        'content-type: application/json\r\n' +
        `dg-error: ${message}\r\n` +
        `dg-request-id: ${requestId}\r\n${extra}` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/v1/listen') return refuse(socket, 404, 'NOT_FOUND', 'Not found');
    const fault = armed;
    armed = undefined;
    const auth = req.headers.authorization;
    if (fault === 'unauthorized' || auth !== `Token ${apiKey}`)
      return refuse(socket, 401, 'INVALID_AUTH', 'Invalid credentials.');
    if (fault === 'rateLimit')
      return refuse(socket, 429, 'TOO_MANY_REQUESTS', 'Too many requests.', 'retry-after: 1\r\n');
    if (fault === 'serverError')
      return refuse(socket, 503, 'SERVICE_UNAVAILABLE', 'Service temporarily unavailable.');
    if (fault === 'stallUpgrade') return; // the socket stays open, unanswered
    const rate = Number(url.searchParams.get('sample_rate'));
    if (url.searchParams.get('encoding') !== 'linear16' || !(rate >= 8000 && rate <= 48000))
      return refuse(socket, 400, 'Bad Request', 'Invalid encoding or sample_rate.');
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, url.searchParams, auth, rate, fault));
  });

  function serve(
    ws: WebSocket,
    query: URLSearchParams,
    authorization: string | undefined,
    rate: number,
    fault: DeepgramSttFakeFault | undefined,
  ): void {
    let resolveClosed: (code: number) => void = () => {};
    const conn: DeepgramSttFakeConnection = {
      query,
      authorization,
      audioMs: 0,
      controlMessages: [],
      sent: [],
      closed: new Promise((resolve) => {
        resolveClosed = resolve;
      }),
    };
    connections.push(conn);
    const requestId = randomUUID();
    const vadEvents = query.get('vad_events') === 'true';
    const interimResults = query.get('interim_results') === 'true';
    let scriptIndex = 0;
    // The utterance in progress: where its speech started/ended and how much was heard.
    let speechMs = 0;
    let speechStartMs: number | undefined;
    let speechEndMs = 0;
    let interimSent = false;
    let idleTimer: NodeJS.Timeout | undefined;

    const current = (): DeepgramSttFakeUtterance =>
      script[Math.min(scriptIndex, script.length - 1)] ?? { text: '' };
    const send = (message: Record<string, unknown>): void => {
      if (fault === 'stall' || ws.readyState !== WebSocket.OPEN) return;
      conn.sent.push(message);
      ws.send(JSON.stringify(message));
    };
    const resetIdle = (): void => {
      if (options.noAudioTimeoutMs === undefined) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => ws.close(1011, 'NET-0001'), options.noAudioTimeoutMs);
    };
    resetIdle();

    function results(text: string, flags: { isFinal: boolean; speechFinal: boolean; fromFinalize: boolean }) {
      const start = (speechStartMs ?? conn.audioMs) / 1000;
      const end = Math.max(start, (speechStartMs === undefined ? conn.audioMs : speechEndMs) / 1000);
      const words = text.split(/\s+/).filter((w) => w.length > 0);
      const step = words.length > 0 ? (end - start) / words.length : 0;
      const confidence = current().confidence ?? 0.97;
      send({
        type: 'Results',
        channel_index: [0, 1],
        duration: round(end - start),
        start: round(start),
        is_final: flags.isFinal,
        speech_final: flags.speechFinal,
        from_finalize: flags.fromFinalize,
        channel: {
          alternatives: [
            {
              transcript: text,
              confidence: text ? confidence : 0,
              words: words.map((w, i) => ({
                word: w.toLowerCase().replace(/[^a-z0-9']/g, ''),
                start: round(start + i * step),
                end: round(start + (i + 1) * step),
                confidence,
                punctuated_word: w,
              })),
            },
          ],
        },
        metadata: { request_id: requestId, model_info: { name: query.get('model') ?? 'nova-3' } },
      });
    }

    function finalise(fromFinalize: boolean): void {
      const heard = speechStartMs !== undefined;
      const segments = heard ? (current().segments ?? [current().text]) : [''];
      segments.forEach((text, i) => {
        const last = i === segments.length - 1;
        results(text, {
          isFinal: true,
          speechFinal: last && heard && !fromFinalize,
          fromFinalize: last && fromFinalize,
        });
      });
      if (heard) scriptIndex++;
      speechMs = 0;
      speechStartMs = undefined;
      interimSent = false;
    }

    /** One block of audio; false when the connection was dropped. */
    function onAudio(buf: Buffer): boolean {
      const ms = ((buf.length >> 1) * 1000) / rate;
      let peak = 0;
      for (let i = 0; i + 1 < buf.length; i += 2) {
        const s = Math.abs(buf.readInt16LE(i));
        if (s > peak) peak = s;
      }
      const at = conn.audioMs;
      conn.audioMs += ms;
      if (fault === 'disconnect' && conn.audioMs >= (options.disconnectAfterMs ?? 200)) {
        ws.terminate();
        return false;
      }
      if (peak <= threshold) return true;
      if (speechStartMs === undefined) {
        speechStartMs = at;
        if (vadEvents) send({ type: 'SpeechStarted', channel: [0, 1], timestamp: round(at / 1000) });
      }
      speechMs += ms;
      speechEndMs = conn.audioMs;
      const u = current();
      if (interimResults && !interimSent && speechMs >= (u.interimAfterMs ?? 100)) {
        interimSent = true;
        for (const text of u.interim ?? [])
          results(text, { isFinal: false, speechFinal: false, fromFinalize: false });
      }
      if (u.finalAfterMs !== undefined && speechMs >= u.finalAfterMs) finalise(false);
      return true;
    }

    ws.on('message', (data: RawData, isBinary: boolean) => {
      resetIdle();
      const buf = toBuffer(data);
      if (isBinary) {
        // Heard in 10 ms blocks, whatever size the client's messages are.
        const block = (rate / 100) * 2;
        for (let offset = 0; offset < buf.length; offset += block) {
          if (!onAudio(buf.subarray(offset, Math.min(offset + block, buf.length)))) return;
        }
        return;
      }
      let message: { type?: unknown };
      try {
        message = JSON.parse(buf.toString('utf8')) as { type?: unknown };
      } catch {
        ws.close(1008, 'DATA-0000');
        return;
      }
      const type = typeof message.type === 'string' ? message.type : 'unknown';
      conn.controlMessages.push(type);
      if (type === 'Finalize') finalise(true);
      else if (type === 'CloseStream') {
        if (speechStartMs !== undefined) finalise(false);
        send({
          type: 'Metadata',
          request_id: requestId,
          duration: round(conn.audioMs / 1000),
          channels: 1,
        });
        if (fault !== 'stall') ws.close(1000);
      }
    });
    ws.on('close', (code) => {
      clearTimeout(idleTimer);
      resolveClosed(code);
    });
  }

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/v1`,
    apiKey,
    connections,
    failNext(fault) {
      armed = fault;
    },
    setScript(next) {
      script = next;
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function round(sec: number): number {
  return Math.round(sec * 1000) / 1000;
}

function statusText(status: number): string {
  return (
    { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests' }[status] ??
    'Service Unavailable'
  );
}
