/**
 * Deepgram streaming speech-to-text over WebSocket (`/v1/listen`, live transcription).
 *
 * One socket per stream. Audio goes up as binary linear16 frames the moment it is pushed
 * (frames pushed while the socket is opening wait in a bounded buffer); results come down as
 * JSON. Interim results become `partial`s; `is_final` segments accumulate until Deepgram
 * endpoints (`speech_final`), answers a `Finalize` (`from_finalize`, sent by `flush()`) or
 * reports `UtteranceEnd`, and then become one `final`. `KeepAlive` is sent while no audio
 * flows (Deepgram closes an idle stream after 10 s); `close()` sends `CloseStream`, which makes
 * Deepgram finalise what it has and close.
 */
import type { ProviderCredentials } from '../../shared/provider-credentials.js';
import type { SttOptions, SttProvider, SttStream } from '../stt.js';
import { DeepgramStream } from './deepgram-stream.js';

export interface DeepgramSttOptions extends ProviderCredentials {
  /** Default model when the stream options name none. */
  model?: string;
  /** Deadline (ms) for the upgrade, for the answer to `Finalize` and for the close handshake. */
  timeoutMs?: number;
  /** Send `KeepAlive` when no audio was sent for this long (ms). */
  keepAliveMs?: number;
  /** Audio (ms) buffered while the socket opens; older frames are dropped beyond it. */
  maxPendingAudioMs?: number;
  /**
   * Audio (ms) allowed to wait in the socket's send queue. Beyond it the network is not keeping
   * up (or audio is pushed far faster than real time): the stream fails with a retryable
   * `send_backlog` instead of buffering without bound.
   */
  maxSendBacklogMs?: number;
  /** Deepgram's own endpointing (ms of silence; `false` disables). Default: Deepgram's. */
  endpointingMs?: number | false;
  /** Extra query parameters (e.g. `keyterm`, `diarize`), appended as given. */
  extraQuery?: Record<string, string>;
}

export const defaultDeepgramSttOptions = {
  baseUrl: 'https://api.deepgram.com/v1',
  model: 'nova-3',
  timeoutMs: 10_000,
  keepAliveMs: 3_000,
  maxPendingAudioMs: 10_000,
  maxSendBacklogMs: 60_000,
} as const satisfies DeepgramSttOptions;

export type ResolvedDeepgramOptions = DeepgramSttOptions & typeof defaultDeepgramSttOptions;

export function createDeepgramStt(options: DeepgramSttOptions = {}): DeepgramStt {
  return new DeepgramStt(options);
}

export class DeepgramStt implements SttProvider {
  readonly name = 'deepgram';
  private readonly options: ResolvedDeepgramOptions;

  constructor(options: DeepgramSttOptions = {}) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...defaultDeepgramSttOptions, ...defined } as ResolvedDeepgramOptions;
  }

  stream(options: SttOptions, signal: AbortSignal): SttStream {
    return new DeepgramStream(this.options, options, signal, listenUrl(this.options, options));
  }
}

/** `wss://…/v1/listen?…` for these options (http(s) base URLs are mapped to ws(s)). */
export function listenUrl(o: ResolvedDeepgramOptions, stream: SttOptions): URL {
  const url = new URL(`${o.baseUrl.replace(/\/+$/, '')}/listen`);
  if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol === 'http:') url.protocol = 'ws:';
  const q = url.searchParams;
  q.set('model', stream.model ?? o.model);
  q.set('encoding', 'linear16');
  q.set('sample_rate', String(stream.sampleRate));
  q.set('channels', '1');
  q.set('interim_results', 'true');
  q.set('punctuate', 'true');
  q.set('smart_format', 'true');
  q.set('language', stream.language);
  q.set('vad_events', 'true');
  if (o.endpointingMs !== undefined) q.set('endpointing', String(o.endpointingMs));
  for (const [k, v] of Object.entries(o.extraQuery ?? {})) q.append(k, v);
  return url;
}
