import type { ServerMessage } from '../../src/transports/web/protocol.js';
import { Microphone } from './audio/microphone.js';
import { type PlaybackState, Player } from './audio/player.js';
import { Emitter } from './emitter.js';
import type { CreateCallOptions, CreatedCall, MessageMetrics } from './types.js';

export type CallMode = 'voice' | 'text';

export interface StartCallOptions extends CreateCallOptions {
  mode: CallMode;
  signal?: AbortSignal;
}

/** One line of the live transcript, as a UI shows it. */
export interface TranscriptLine {
  /** The message id (`user-N`, `welcome-1`, …); `partial` for the caller's words in progress. */
  id: string;
  role: 'user' | 'assistant';
  text: string;
  /** false: a partial transcript, or an assistant reply still being spoken. */
  final: boolean;
  /** The caller cut this reply off; `text` holds what they heard. */
  interrupted: boolean;
  metrics?: MessageMetrics;
}

type Msg<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export interface WebCallEvents extends Record<string, unknown> {
  ready: Msg<'ready'>;
  status: Msg<'status'>;
  transcript: Msg<'transcript'>;
  'assistant-text': Msg<'assistant-text'>;
  metrics: Msg<'metrics'>;
  error: { code: string; message: string };
  ended: { code: number; reason: string };
  /** The transcript changed (a copy of `call.lines`). */
  lines: TranscriptLine[];
  /** Playback started, stopped or was cleared. */
  playback: PlaybackState;
}

export const defaultWebCallOptions = {
  protocolVersion: 1,
  sampleRate: 16000,
  frameMs: 20,
  /** `end()` closes the socket itself if the server has not within this time. */
  endTimeoutMs: 5000,
} as const;

const FRAME_SAMPLES = (defaultWebCallOptions.sampleRate * defaultWebCallOptions.frameMs) / 1000;

/**
 * A web call in the browser: the WebSocket protocol v1, the microphone (voice mode) and the
 * assistant's audio. Create it with `ParleyClient.startCall`.
 */
export class WebCall extends Emitter<WebCallEvents> {
  readonly id: string;
  readonly mode: CallMode;
  /** The call as created (status `queued`) with its join link. */
  readonly created: CreatedCall;
  /** The latest call status (`queued`, `ongoing`, `finished`, `forwarded`). */
  status: string;
  /** The latest `reason` of a status message. */
  statusReason = '';
  /** Whether the socket has closed. */
  ended = false;
  private readonly linesById = new Map<string, TranscriptLine>();
  private order: string[] = [];
  private socket: WebSocket | undefined;
  private ctx: AudioContext | undefined;
  private mic: Microphone | undefined;
  private player: Player | undefined;
  private muted = false;
  private readonly onEnd: () => unknown;
  private endedPromise: Promise<void>;
  private resolveEnded: () => void = () => {};

  constructor(created: CreatedCall, options: { mode: CallMode; onEnd?: () => unknown }) {
    super();
    this.created = created;
    this.id = created.id;
    this.mode = options.mode;
    this.status = created.status;
    this.onEnd = options.onEnd ?? (() => undefined);
    this.endedPromise = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  /** The transcript so far, in order. */
  get lines(): TranscriptLine[] {
    return this.order.map((id) => this.linesById.get(id)).filter((l): l is TranscriptLine => Boolean(l));
  }

  /** What playback is doing (voice mode; all zero in text mode). */
  get playback(): PlaybackState {
    return this.player?.state ?? { playing: false, clears: 0, playedMs: 0, queuedMs: 0 };
  }

  /** Resolves when the call's socket has closed. */
  get done(): Promise<void> {
    return this.endedPromise;
  }

  /** Opens audio (voice), then the WebSocket; resolves once `hello` is sent. */
  async connect(signal?: AbortSignal): Promise<void> {
    const voice = this.mode === 'voice';
    try {
      if (voice) {
        this.ctx = new AudioContext();
        await this.ctx.resume();
        this.player = new Player(
          this.ctx,
          defaultWebCallOptions.sampleRate,
          (id) => this.sendJson({ type: 'mark', id }),
          () => this.emit('playback', this.playback),
        );
        this.mic = await Microphone.open(this.ctx, {
          targetRate: defaultWebCallOptions.sampleRate,
          frameSamples: FRAME_SAMPLES,
          onFrame: (frame) => this.sendAudio(frame),
        });
      }
      signal?.throwIfAborted();
      await this.openSocket(voice, signal);
    } catch (error) {
      this.cleanup();
      this.onEnd();
      throw error;
    }
  }

  /** Say something as the caller (text chat; also works in voice calls). */
  sendText(text: string): void {
    const trimmed = text.trim();
    if (!trimmed) return;
    this.sendJson({ type: 'user-text', text: trimmed.slice(0, 4000) });
  }

  /**
   * Make the assistant say the welcome message now (`welcomeMessageMode: manual`). With `text`:
   * say that text, only when the assistant has `clientSayEnabled: true` (else the server answers
   * an `error` `say_not_allowed`); the line is marked `clientSupplied` in the conversation.
   */
  say(text?: string): void {
    this.sendJson(text ? { type: 'say', text } : { type: 'say' });
  }

  /** Muted: silence is sent instead of the microphone. */
  setMuted(muted: boolean): void {
    this.muted = muted;
  }

  get isMuted(): boolean {
    return this.muted;
  }

  /** Hangs up; resolves when the socket has closed. */
  async end(): Promise<void> {
    if (this.ended) return;
    if (this.socket?.readyState === WebSocket.OPEN) this.sendJson({ type: 'end' });
    else this.onEnd();
    const timer = setTimeout(
      () => this.socket?.close(1000, 'client ended'),
      defaultWebCallOptions.endTimeoutMs,
    );
    await this.endedPromise;
    clearTimeout(timer);
  }

  private openSocket(voice: boolean, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.created.join.url);
      socket.binaryType = 'arraybuffer';
      this.socket = socket;
      const abort = () => socket.close(1000, 'aborted');
      signal?.addEventListener('abort', abort, { once: true });
      socket.onopen = () => {
        signal?.removeEventListener('abort', abort);
        this.sendJson({
          type: 'hello',
          version: defaultWebCallOptions.protocolVersion,
          encoding: 'pcm16',
          sampleRate: defaultWebCallOptions.sampleRate,
          frameMs: defaultWebCallOptions.frameMs,
          marks: voice,
          ...(voice ? {} : { audioOutput: false }),
        });
        resolve();
      };
      socket.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
        if (typeof e.data === 'string') this.onText(e.data);
        else this.player?.enqueue(new Int16Array(e.data));
      };
      socket.onerror = () => {
        // the close event follows with the code and reason
      };
      socket.onclose = (e) => {
        signal?.removeEventListener('abort', abort);
        this.finish(e.code, e.reason);
        // After onopen this is a no-op: the promise has resolved.
        reject(new Error(`web call socket closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`));
      };
    });
  }

  private onText(text: string): void {
    let m: ServerMessage;
    try {
      m = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    switch (m.type) {
      case 'ready':
        this.emit('ready', m);
        break;
      case 'status':
        this.status = m.status;
        this.statusReason = m.reason;
        this.emit('status', m);
        break;
      case 'mark':
        if (this.player) this.player.mark(m.id);
        else this.sendJson({ type: 'mark', id: m.id });
        break;
      case 'clear':
        this.player?.clear();
        break;
      case 'transcript':
        this.onTranscript(m);
        this.emit('transcript', m);
        break;
      case 'assistant-text':
        this.onAssistantText(m);
        this.emit('assistant-text', m);
        break;
      case 'metrics': {
        const line = this.linesById.get(m.messageId);
        if (line) {
          line.metrics = m.metrics;
          this.emitLines();
        }
        this.emit('metrics', m);
        break;
      }
      case 'error':
        this.emit('error', { code: m.code, message: m.message });
        break;
    }
  }

  private onTranscript(m: Msg<'transcript'>): void {
    if (!m.final) {
      if (!m.text) return;
      this.upsert({ id: 'partial', role: 'user', text: m.text, final: false, interrupted: false });
      return;
    }
    this.remove('partial');
    this.upsert({
      id: m.messageId ?? `user-${this.order.length + 1}`,
      role: 'user',
      text: m.text,
      final: true,
      interrupted: false,
    });
  }

  private onAssistantText(m: Msg<'assistant-text'>): void {
    const current = this.linesById.get(m.messageId);
    if (m.final) {
      this.upsert({
        id: m.messageId,
        role: 'assistant',
        text: m.text,
        final: true,
        interrupted: m.interrupted === true,
        ...(current?.metrics ? { metrics: current.metrics } : {}),
      });
      return;
    }
    // Each sentence arrives as it starts playing: append it.
    const text = current ? `${current.text} ${m.text}`.trim() : m.text;
    this.upsert({ id: m.messageId, role: 'assistant', text, final: false, interrupted: false });
  }

  private upsert(line: TranscriptLine): void {
    if (!this.linesById.has(line.id)) {
      // A partial of the caller stays last while the assistant's lines come in.
      const partialAt = this.order.indexOf('partial');
      if (line.id !== 'partial' && partialAt !== -1) this.order.splice(partialAt, 0, line.id);
      else this.order.push(line.id);
    }
    this.linesById.set(line.id, line);
    this.emitLines();
  }

  private remove(id: string): void {
    if (!this.linesById.delete(id)) return;
    this.order = this.order.filter((x) => x !== id);
  }

  private emitLines(): void {
    this.emit('lines', this.lines);
  }

  private sendAudio(frame: ArrayBuffer): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(this.muted ? new ArrayBuffer(frame.byteLength) : frame);
  }

  private sendJson(message: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private finish(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.status === 'queued' || this.status === 'ongoing') this.status = 'finished';
    this.cleanup();
    this.emit('ended', { code, reason });
    this.emit('playback', this.playback);
    this.resolveEnded();
  }

  private cleanup(): void {
    this.mic?.close();
    this.mic = undefined;
    this.player?.close();
    if (this.ctx && this.ctx.state !== 'closed') void this.ctx.close().catch(() => undefined);
  }
}
