/**
 * The speech queue of one call: assistant messages (utterances) are synthesised sentence by
 * sentence in order (one TTS request at a time, running ahead of playback), cut into fixed
 * 20 ms frames when synthesised, and sent one frame per pacer tick with a mark every 200 ms and
 * at each sentence end. Playback progress comes from the client's mark acks.
 */
import type { Clock, Timer } from '../shared/clock.js';
import { ProviderError } from '../shared/provider-error.js';
import type { Transport } from '../transports/transport.js';
import type { TtsOptions, TtsProvider } from '../tts/tts.js';
import type { PacedOutput, Pacer } from './pacer.js';
import { heardPrefix, MarkTracker, type SpokenSentence } from './playout.js';
import type { Sentence } from './sentence-splitter.js';
import type { TtsCache } from './tts-cache.js';
import { Utterance, type UtteranceMeta } from './utterance.js';

export interface SpeechOutputOptions {
  clock: Clock;
  pacer: Pacer;
  transport: Transport;
  /** Undefined: text-only client; messages count as heard when their text is sent. */
  tts: TtsProvider | undefined;
  ttsOptions: TtsOptions;
  /** The client acks marks; otherwise audio counts as played when sent. */
  marks: boolean;
  /** A message whose last mark is not acked this long after its last frame counts as played. */
  playoutGraceMs?: number;
  /** Shared cache of synthesised sentences. */
  cache?: TtsCache;
  onStart(u: Utterance): void;
  onEnd(u: Utterance): void;
  onError(error: ProviderError, u: Utterance): void;
}

const MARK_EVERY_FRAMES = 10;

export class SpeechOutput implements PacedOutput {
  private readonly active: Utterance[] = [];
  private readonly synthQueue: { u: Utterance; sentence: SpokenSentence; readyAt: number }[] = [];
  private synthesizing = false;
  private readonly markTracker = new MarkTracker<Utterance>();
  private readonly graceTimers = new Map<Utterance, Timer>();
  private readonly frameSamples: number;
  private readonly frameMs: number;
  private registered = false;
  private closed = false;

  constructor(private readonly o: SpeechOutputOptions) {
    this.frameMs = o.pacer.frameMs;
    this.frameSamples = (o.ttsOptions.sampleRate * this.frameMs) / 1000;
  }

  get audio(): boolean {
    return this.o.tts !== undefined;
  }

  /** Whether anything is queued, synthesising or playing. */
  get busy(): boolean {
    return this.active.length > 0;
  }

  /** Whether audio (or text) of an unfinished message has gone out. */
  get speaking(): boolean {
    return this.active.some((u) => u.state === 'playing');
  }

  begin(messageId: string, opts: { interruptible: boolean; meta?: UtteranceMeta }): Utterance {
    const u = new Utterance(messageId, opts.interruptible, this.o.clock.now(), opts.meta);
    if (this.closed) {
      u.settle('skipped', '', this.o.clock.now());
      return u;
    }
    this.active.push(u);
    return u;
  }

  /** Adds a sentence (its offsets into `fullText`, the reply's text so far). */
  addSentence(u: Utterance, sentence: Sentence, fullText: string): void {
    if (u.isFinished) return;
    u.text = fullText;
    const spoken: SpokenSentence = { ...sentence, audioStartMs: 0, audioMs: 0 };
    u.sentences.push(spoken);
    if (!this.o.tts) {
      this.startIfFirst(u);
      u.sentMs += 1;
      u.playedMs = u.sentMs;
      u.announced = u.sentences.length;
      this.o.transport.send({
        type: 'assistant-text',
        messageId: u.messageId,
        text: spoken.text,
        final: false,
      });
      return;
    }
    u.pendingSynth++;
    this.synthQueue.push({ u, sentence: spoken, readyAt: this.o.clock.now() });
    this.ensurePaced();
    void this.synthesize();
  }

  finishText(u: Utterance, fullText: string): void {
    if (u.isFinished) return;
    u.text = fullText;
    u.textDone = true;
    if (!this.o.tts) {
      if (u.sentences.length === 0) this.finish(u, 'skipped');
      else this.finish(u, 'done');
      return;
    }
    this.ensurePaced();
  }

  /** Say a fixed text as one message (welcome, end-call message …). */
  say(messageId: string, text: string, opts: { interruptible: boolean; meta?: UtteranceMeta }): Utterance {
    const u = this.begin(messageId, opts);
    const body = text.trim();
    if (body) this.addSentence(u, { text: body, start: 0, end: body.length }, body);
    this.finishText(u, body);
    return u;
  }

  /** True when everything unfinished may be interrupted. */
  get interruptible(): boolean {
    return this.active.every((u) => u.interruptible);
  }

  /**
   * Barge-in (or hang-up): stops synthesis, drops queued audio, tells the client to `clear`,
   * and settles every unfinished message: what was heard, `interrupted`; never played, `skipped`.
   */
  interrupt(opts: { clear: boolean } = { clear: true }): Utterance[] {
    const affected = this.active.splice(0);
    this.synthQueue.length = 0;
    this.markTracker.clear();
    for (const timer of this.graceTimers.values()) timer.cancel();
    this.graceTimers.clear();
    if (opts.clear && this.o.tts && affected.length > 0) this.o.transport.clear();
    const now = this.o.clock.now();
    for (const u of affected) {
      u.abort.abort(new Error('interrupted'));
      const heard = this.o.tts ? heardPrefix(u.text, u.sentences, u.playedMs) : this.textSent(u);
      if (u.playedMs > 0) {
        const complete = heard === u.text && u.textDone && u.fullySent;
        u.settle(complete ? 'done' : 'interrupted', heard, now);
      } else {
        u.settle('skipped', u.text, now);
      }
      this.o.onEnd(u);
    }
    this.unregisterIfIdle();
    return affected;
  }

  onMark(id: string): void {
    const hit = this.markTracker.ack(id);
    if (!hit) return;
    const u = hit.owner;
    if (hit.positionMs > u.playedMs) u.playedMs = hit.positionMs;
    if (u.fullySent && u.playedMs >= u.sentMs) this.finish(u, 'done');
  }

  close(): void {
    this.interrupt({ clear: false });
    this.closed = true;
    this.o.pacer.remove(this);
    this.registered = false;
  }

  /** Pacer tick: send the next frame of the oldest message still sending. */
  tick(_dueMs: number): boolean {
    let i = 0;
    while (i < this.active.length) {
      const u = this.active[i] as Utterance;
      if (u.fullySent) {
        i++;
        continue;
      }
      if (u.readIndex < u.frames.length) {
        this.sendFrame(u);
        return true;
      }
      if (!u.textDone || u.pendingSynth > 0) return false; // underrun: next frame not synthesised yet
      this.completeSending(u);
      if (this.active[i] === u) i++;
    }
    this.unregisterIfIdle();
    return false;
  }

  private sendFrame(u: Utterance): void {
    const frame = u.frames[u.readIndex];
    u.frames[u.readIndex] = undefined;
    u.readIndex++;
    if (!frame) return;
    this.startIfFirst(u);
    // Announce a sentence when its first frame goes out.
    const next = u.sentences[u.announced];
    if (next && u.sentMs >= next.audioStartMs && next.audioMs > 0) {
      u.announced++;
      this.o.transport.send({
        type: 'assistant-text',
        messageId: u.messageId,
        text: next.text,
        final: false,
      });
    }
    this.o.transport.sendAudio(frame);
    u.sentMs += this.frameMs;
    u.framesSinceMark++;
    if (!this.o.marks) {
      u.playedMs = u.sentMs;
      return;
    }
    let atSentenceEnd = false;
    for (let i = u.announced - 1; i >= 0 && i < u.sentences.length; i++) {
      const s = u.sentences[i] as SpokenSentence;
      if (s.audioStartMs > u.sentMs) break;
      if (s.audioMs > 0 && s.audioStartMs + s.audioMs === u.sentMs) {
        atSentenceEnd = true;
        break;
      }
    }
    if (atSentenceEnd || u.framesSinceMark >= MARK_EVERY_FRAMES) this.mark(u);
  }

  private mark(u: Utterance): void {
    u.framesSinceMark = 0;
    this.o.transport.sendMark(this.markTracker.add(u, u.sentMs));
  }

  private completeSending(u: Utterance): void {
    u.fullySent = true;
    if (!this.o.marks || u.sentMs === 0 || u.playedMs >= u.sentMs) {
      this.finish(u, 'done');
      return;
    }
    if (u.framesSinceMark > 0) this.mark(u);
    const grace = this.o.playoutGraceMs ?? 2000;
    this.graceTimers.set(
      u,
      this.o.clock.setTimeout(() => {
        this.graceTimers.delete(u);
        if (!u.isFinished) {
          u.playedMs = u.sentMs;
          this.finish(u, 'done');
        }
      }, grace),
    );
  }

  private finish(u: Utterance, state: 'done' | 'skipped'): void {
    const index = this.active.indexOf(u);
    if (index < 0) return;
    // Messages end in order: an earlier one still playing ends first.
    this.active.splice(index, 1);
    this.graceTimers.get(u)?.cancel();
    this.graceTimers.delete(u);
    if (u.sentences.length === 0 && state === 'done') state = 'skipped';
    u.settle(state, u.text, this.o.clock.now());
    this.o.onEnd(u);
    this.unregisterIfIdle();
  }

  private startIfFirst(u: Utterance): void {
    if (u.firstAudioAt !== undefined) return;
    u.firstAudioAt = this.o.clock.now();
    u.state = 'playing';
    this.o.onStart(u);
  }

  private isHead(u: Utterance): boolean {
    return this.registered && this.active.find((a) => !a.fullySent) === u;
  }

  private textSent(u: Utterance): string {
    const last = u.sentences[u.announced - 1];
    return last ? u.text.slice(0, last.end) : '';
  }

  private ensurePaced(): void {
    if (this.registered || this.closed || !this.o.tts) return;
    this.registered = true;
    this.o.pacer.add(this);
  }

  private unregisterIfIdle(): void {
    if (this.registered && this.active.length === 0) {
      this.registered = false;
      this.o.pacer.remove(this);
    }
  }

  /** One TTS request at a time, in order, ahead of playback. */
  private async synthesize(): Promise<void> {
    const tts = this.o.tts;
    if (this.synthesizing || !tts) return;
    this.synthesizing = true;
    try {
      for (let item = this.synthQueue.shift(); item; item = this.synthQueue.shift()) {
        const { u, sentence, readyAt } = item;
        if (u.isFinished) continue;
        const started = this.o.clock.now();
        if (u.ttsQueueLatencyMs === undefined) u.ttsQueueLatencyMs = started - readyAt;
        sentence.audioStartMs = u.audioMs;
        const carry = new Int16Array(this.frameSamples);
        let carryLen = 0;
        u.firstSentenceAt ??= readyAt;
        const made: Int16Array[] = [];
        const pushFrame = (frame: Int16Array) => {
          if (u.ttsFirstAudioMs === undefined) {
            const now = this.o.clock.now();
            u.ttsFirstAudioMs = now - readyAt;
            u.ttsFirstChunkMs = now - started;
          }
          made.push(frame);
          u.frames.push(frame);
          u.audioMs += this.frameMs;
          sentence.audioMs += this.frameMs;
          // The first frame of a message goes out at once rather than on the next tick.
          if (u.readIndex === 0 && u.frames.length === 1 && this.isHead(u)) this.tick(this.o.clock.now());
        };
        const cache = this.o.cache;
        const { voice, model, speed, sampleRate } = this.o.ttsOptions;
        const key = cache
          ? cache.key({ provider: tts.name, voice, model, speed, sampleRate, text: sentence.text })
          : '';
        // A fallback speaking for the configured voice says so: its audio is not cached as that voice.
        let standIn = false;
        const options = cache
          ? {
              ...this.o.ttsOptions,
              onStandIn: () => {
                standIn = true;
              },
            }
          : this.o.ttsOptions;
        const cached = cache?.get(key);
        if (cached) {
          u.cachedSentences++;
          for (const frame of cached) pushFrame(frame);
          u.pendingSynth--;
          continue;
        }
        let complete = false;
        try {
          for await (const chunk of tts.synthesize(sentence.text, options, u.abort.signal)) {
            if (u.isFinished) break;
            let offset = 0;
            if (carryLen > 0) {
              const take = Math.min(this.frameSamples - carryLen, chunk.length);
              carry.set(chunk.subarray(0, take), carryLen);
              carryLen += take;
              offset = take;
              if (carryLen === this.frameSamples) {
                pushFrame(carry.slice());
                carryLen = 0;
              }
            }
            while (chunk.length - offset >= this.frameSamples) {
              pushFrame(chunk.slice(offset, offset + this.frameSamples));
              offset += this.frameSamples;
            }
            if (offset < chunk.length) {
              carry.set(chunk.subarray(offset), 0);
              carryLen = chunk.length - offset;
            }
          }
          if (carryLen > 0 && !u.isFinished) {
            carry.fill(0, carryLen);
            pushFrame(carry.slice());
          }
          complete = !u.isFinished;
        } catch (error) {
          if (!u.abort.signal.aborted)
            this.o.onError(ProviderError.from(error, 'tts_error', tts.name, 'synthesis_failed'), u);
        } finally {
          u.ttsGenerationMs += this.o.clock.now() - started;
          u.pendingSynth--;
        }
        if (complete && !standIn && cache) cache.set(key, made);
      }
    } finally {
      this.synthesizing = false;
    }
  }
}
