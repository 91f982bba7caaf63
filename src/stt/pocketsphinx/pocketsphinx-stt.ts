/**
 * Local speech-to-text with CMU PocketSphinx (Debian 12: `pocketsphinx` 5prealpha, whose CLI is
 * `pocketsphinx_continuous`; model from `pocketsphinx-en-us`). Finals only, no partials.
 *
 * One warm decoder process per stream, fed as the audio is pushed; the CLI segments utterances
 * with its own VAD and prints one final per utterance. `flush()` appends enough silence to make
 * it end the current utterance at once.
 *
 * Grammars: the CLI takes one grammar at start-up and cannot switch in-process, so a stream keeps
 * one process per decoding plan. `expectedPhrases` compile to a JSGF grammar with a dictionary of
 * just its words (loads in ~20 ms); `setExpectedPhrases` switches immediately: the old process
 * gets flush padding (ending any utterance it was in) and, for a grammar, end of input; the new
 * one starts, its input buffered by the pipe while it loads. The open-vocabulary process (~0.6 s
 * to load, ~100 MB) is kept warm while a grammar is active so switching back costs nothing.
 * Call it between utterances: an utterance in progress is finalised with the old plan.
 */

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HighBandNoise } from '../../audio/band-fill.js';
import { LinearResampler } from '../../audio/resampler.js';
import { ProviderError } from '../../shared/provider-error.js';
import { EventQueue } from '../event-queue.js';
import type { SttEvent, SttOptions, SttProvider, SttStream } from '../stt.js';
import { DECODER_BLOCK_SAMPLES, DECODER_SAMPLE_RATE, DecoderProcess } from './decoder-process.js';
import { type DecoderPlan, loadDictionary, type PronunciationDictionary, planDecoder } from './grammar.js';
import type { DecodedUtterance } from './output-parser.js';

const PROVIDER = 'pocketsphinx';

export interface PocketsphinxSttOptions {
  /** Default `pocketsphinx_continuous` (on PATH). */
  binary?: string;
  /** Directory with `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
  /** Silence (10 ms frames) after which the decoder ends an utterance. Default 30 (300 ms). */
  vadPostSpeechFrames?: number;
  /** Extra CLI arguments appended to every decoder. */
  extraArgs?: readonly string[];
  /**
   * 8-kHz (phone) audio is upsampled for the wideband model and this much faint noise (PCM16
   * RMS) fills its empty band above 4 kHz (`audio/band-fill.ts`); 0 turns it off. The default
   * is the level measured best in bench/phone-band.
   */
  phoneBandNoiseRms?: number;
}

export const DEFAULT_PHONE_BAND_NOISE_RMS = 30;

export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/** Creates the provider after checking the binary and model are installed; loads the dictionary. */
export async function createPocketsphinxStt(options: PocketsphinxSttOptions = {}): Promise<PocketsphinxStt> {
  const binary = options.binary ?? 'pocketsphinx_continuous';
  const modelDir = options.modelDir ?? DEFAULT_MODEL_DIR;
  const paths = {
    hmm: join(modelDir, 'en-us'),
    lm: join(modelDir, 'en-us.lm.bin'),
    dict: join(modelDir, 'cmudict-en-us.dict'),
  };
  try {
    await Promise.all([access(join(paths.hmm, 'mdef')), access(paths.lm), access(paths.dict)]);
  } catch (error) {
    throw new ProviderError({
      type: 'stt_error',
      code: 'model_missing',
      message: `pocketsphinx model not found under ${modelDir} (install pocketsphinx-en-us)`,
      provider: PROVIDER,
      retryable: false,
      cause: error,
    });
  }
  try {
    await promisify(execFile)('sh', ['-c', 'command -v "$0"', binary]);
  } catch (error) {
    throw new ProviderError({
      type: 'stt_error',
      code: 'binary_missing',
      message: `${binary} not found on PATH (install pocketsphinx)`,
      provider: PROVIDER,
      retryable: false,
      cause: error,
    });
  }
  const dictionary = await loadDictionary(paths.dict);
  const workDir = join(tmpdir(), `parley-pocketsphinx-${process.pid}-${randomUUID().slice(0, 8)}`);
  await mkdir(workDir, { recursive: true });
  return new PocketsphinxStt({ ...options, binary, paths, dictionary, workDir });
}

interface ResolvedOptions extends PocketsphinxSttOptions {
  binary: string;
  paths: { hmm: string; lm: string; dict: string };
  dictionary: PronunciationDictionary;
  workDir: string;
}

export class PocketsphinxStt implements SttProvider {
  readonly name = PROVIDER;
  private readonly written = new Set<string>();

  constructor(private readonly o: ResolvedOptions) {}

  get phoneBandNoiseRms(): number {
    return this.o.phoneBandNoiseRms ?? DEFAULT_PHONE_BAND_NOISE_RMS;
  }

  stream(options: SttOptions, signal: AbortSignal): SttStream {
    return new PocketsphinxStream(this, options, signal);
  }

  /** What a stream would decode with for these phrases (exposed for diagnostics and tests). */
  plan(expectedPhrases: readonly string[] | undefined): DecoderPlan {
    return planDecoder(expectedPhrases, this.o.dictionary);
  }

  /** Removes the grammar files. Streams still open keep working until their decoders restart. */
  async close(): Promise<void> {
    await rm(this.o.workDir, { recursive: true, force: true });
    this.written.clear();
  }

  /** @internal Spawns a decoder for `plan`. */
  spawnDecoder(
    plan: DecoderPlan,
    handlers: Pick<ConstructorParameters<typeof DecoderProcess>[0], 'onUtterance' | 'onExit'>,
  ): DecoderProcess {
    const o = this.o;
    const args = [
      '-infile',
      '/dev/stdin',
      '-samprate',
      String(DECODER_SAMPLE_RATE),
      '-hmm',
      o.paths.hmm,
      // Digital silence (flush padding, muted lines) otherwise derails the live CMN estimate.
      '-dither',
      'yes',
      // Fixed dither seed: the same audio always decodes the same way.
      '-seed',
      '1',
      '-vad_postspeech',
      String(o.vadPostSpeechFrames ?? 30),
      '-time',
      'yes',
    ];
    if (plan.kind === 'grammar') {
      const base = join(o.workDir, plan.key);
      if (!this.written.has(plan.key)) {
        // Synchronous on purpose: a few hundred bytes, once per distinct grammar, and it keeps
        // stream()/setExpectedPhrases() synchronous with no window where audio has nowhere to go.
        mkdirSync(o.workDir, { recursive: true });
        writeFileSync(`${base}.gram`, plan.jsgf);
        writeFileSync(`${base}.dict`, plan.dict);
        this.written.add(plan.key);
      }
      args.push('-jsgf', `${base}.gram`, '-dict', `${base}.dict`);
    } else {
      args.push('-lm', o.paths.lm, '-dict', o.paths.dict);
    }
    if (o.extraArgs) args.push(...o.extraArgs);
    return new DecoderProcess({ binary: o.binary, args, key: plan.key, provider: PROVIDER, ...handlers });
  }

  /** @internal Padding that makes the decoder end an utterance: post-speech silence + margin. */
  get paddingSamples(): number {
    const postSpeech = ((this.o.vadPostSpeechFrames ?? 30) + 20) * (DECODER_SAMPLE_RATE / 100);
    return Math.ceil(postSpeech / DECODER_BLOCK_SAMPLES) * DECODER_BLOCK_SAMPLES;
  }
}

class PocketsphinxStream implements SttStream {
  private readonly queue = new EventQueue<SttEvent>();
  private readonly resampler: LinearResampler | undefined;
  private readonly bandFill: HighBandNoise | undefined;
  private readonly decoders = new Set<DecoderProcess>();
  private active: DecoderProcess | undefined;
  /** The open-model decoder kept warm while a grammar decoder is active. */
  private warmOpen: DecoderProcess | undefined;
  private batch = new Int16Array(DECODER_BLOCK_SAMPLES);
  private batchSamples = 0;
  /** Stream offset (ms) of the first sample in `batch`. */
  private batchUserMs = 0;
  /** Audio pushed so far, in input samples. */
  private pushedSamples = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => this.shutdown(false);

  constructor(
    private readonly provider: PocketsphinxStt,
    private readonly options: SttOptions,
    private readonly signal: AbortSignal,
  ) {
    if (options.sampleRate !== DECODER_SAMPLE_RATE) {
      this.resampler = new LinearResampler(options.sampleRate, DECODER_SAMPLE_RATE);
      const rms = provider.phoneBandNoiseRms;
      if (options.sampleRate === 8000 && rms > 0) this.bandFill = new HighBandNoise(rms);
    }
    if (!/^en\b/i.test(options.language)) {
      this.fail(
        'unsupported_language',
        `language '${options.language}' is not supported (en-US only)`,
        false,
      );
      return;
    }
    if (signal.aborted) {
      this.closed = true;
      this.queue.end();
      return;
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.active = this.startDecoder(provider.plan(options.expectedPhrases));
  }

  [Symbol.asyncIterator](): AsyncIterator<SttEvent> {
    return this.queue[Symbol.asyncIterator]();
  }

  /** Pids of the live decoder shells (diagnostics and tests). */
  get decoderPids(): number[] {
    return [...this.decoders].flatMap((d) => (d.pid === undefined ? [] : [d.pid]));
  }

  push(frame: Int16Array): void {
    if (this.closed || !this.active) return;
    let samples = frame;
    if (this.resampler) {
      const count = this.resampler.processToBuffer(frame);
      samples = this.resampler.buffer;
      this.bandFill?.addTo(samples, count);
      this.append(samples, count);
    } else {
      this.append(samples, samples.length);
    }
    this.pushedSamples += frame.length;
  }

  private get userMs(): number {
    return (this.pushedSamples * 1000) / this.options.sampleRate;
  }

  /** Copies into the current 2048-sample block; a full block goes to the decoder. */
  private append(samples: Int16Array, count: number): void {
    let offset = 0;
    while (offset < count) {
      if (this.batchSamples === 0) {
        this.batchUserMs = this.userMs + (offset * 1000) / DECODER_SAMPLE_RATE;
      }
      const take = Math.min(DECODER_BLOCK_SAMPLES - this.batchSamples, count - offset);
      const batch = this.batch;
      const at = this.batchSamples;
      for (let i = 0; i < take; i++) batch[at + i] = samples[offset + i] ?? 0;
      this.batchSamples += take;
      offset += take;
      if (this.batchSamples === DECODER_BLOCK_SAMPLES) this.sendBatch();
    }
  }

  private sendBatch(): void {
    if (this.batchSamples === 0 || !this.active) return;
    this.active.write(Buffer.from(this.batch.buffer, 0, this.batchSamples * 2), this.batchUserMs);
    // The pipe keeps the buffer until it is written: start a fresh one (one per 128 ms).
    this.batch = new Int16Array(DECODER_BLOCK_SAMPLES);
    this.batchSamples = 0;
  }

  flush(): void {
    if (this.closed || !this.active) return;
    this.pad(this.active);
  }

  /** Sends the partial block plus enough silence for the decoder to end the utterance. */
  private pad(decoder: DecoderProcess): void {
    this.sendBatch();
    const align =
      (DECODER_BLOCK_SAMPLES - (decoder.procSamples % DECODER_BLOCK_SAMPLES)) % DECODER_BLOCK_SAMPLES;
    const samples = align + this.provider.paddingSamples;
    decoder.write(Buffer.alloc(samples * 2), this.userMs, true);
  }

  setExpectedPhrases(phrases: readonly string[] | undefined): void {
    if (this.closed || !this.active) return;
    const plan = this.provider.plan(phrases);
    if (plan.key === this.active.key) return;
    const previous = this.active;
    this.pad(previous);
    if (previous.key === 'open') {
      this.warmOpen = previous;
    } else {
      previous.end();
    }
    if (plan.kind === 'open' && this.warmOpen && !this.warmOpen.isGone) {
      this.active = this.warmOpen;
      this.warmOpen = undefined;
    } else {
      this.active = this.startDecoder(plan);
    }
  }

  private startDecoder(plan: DecoderPlan): DecoderProcess {
    const decoder = this.provider.spawnDecoder(plan, {
      onUtterance: (d, u) => this.onUtterance(d, u),
      onExit: (d, error) => this.onDecoderExit(d, error),
    });
    this.decoders.add(decoder);
    return decoder;
  }

  private onUtterance(decoder: DecoderProcess, u: DecodedUtterance): void {
    if (this.queue.isEnded) return;
    // A grammar forces a phrase onto whatever it hears, including the silence that pads a flush:
    // words lying entirely in that padding were never said.
    const said = u.words.filter((w) => !decoder.inPadding((w.startSec + w.endSec) / 2));
    if (u.words.length > 0 && said.length === 0) return;
    if (said.length < u.words.length) u = { text: said.map((w) => w.word).join(' '), words: said };
    const first = u.words[0];
    const last = u.words[u.words.length - 1];
    const endOffsetMs = last ? decoder.toUserMs(last.endSec) : this.userMs;
    const startOffsetMs = first ? decoder.toUserMs(first.startSec) : endOffsetMs;
    let confidence: number | undefined;
    // Posteriors are only meaningful with the language model (a grammar path always scores 1).
    if (decoder.key === 'open' && u.words.length > 0) {
      let sum = 0;
      for (const w of u.words) sum += Math.min(1, Math.max(0, w.posterior));
      confidence = Math.round((sum / u.words.length) * 1000) / 1000;
    }
    this.queue.push({
      type: 'final',
      text: u.text,
      ...(confidence === undefined ? {} : { confidence }),
      startOffsetMs: Math.round(startOffsetMs),
      endOffsetMs: Math.round(Math.max(endOffsetMs, startOffsetMs)),
      timestampMs: Date.now(),
    });
  }

  private onDecoderExit(decoder: DecoderProcess, error: ProviderError | undefined): void {
    this.decoders.delete(decoder);
    if (this.warmOpen === decoder) this.warmOpen = undefined;
    if (error && !this.closed) {
      this.queue.push({ type: 'error', error });
      this.shutdown(false);
      return;
    }
    if (this.closed && this.decoders.size === 0) this.queue.end();
  }

  private fail(code: string, message: string, retryable: boolean): void {
    this.queue.push({
      type: 'error',
      error: new ProviderError({ type: 'stt_error', code, message, provider: PROVIDER, retryable }),
    });
    this.closed = true;
    this.queue.end();
  }

  /** graceful: let decoders finish what they were given; otherwise kill them now. */
  private shutdown(graceful: boolean): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.signal.removeEventListener('abort', this.onAbort);
      if (graceful && this.active) this.pad(this.active);
      this.active = undefined;
      this.warmOpen = undefined;
      const decoders = [...this.decoders];
      for (const d of decoders) {
        if (graceful) d.end();
        else d.kill();
      }
      this.closing = Promise.all(decoders.map((d) => d.exited)).then(() => this.queue.end());
    }
    if (!graceful) {
      // Abort: drop any further results and end the iteration now.
      for (const d of this.decoders) d.kill();
      this.queue.end();
    }
    return this.closing;
  }

  close(): Promise<void> {
    return this.shutdown(true);
  }
}
