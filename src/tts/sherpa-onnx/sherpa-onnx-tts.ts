/**
 * Local text-to-speech with sherpa-onnx (`sherpa-onnx-node`, onnxruntime on the CPU) and
 * operator-supplied voices: `TtsOptions.model` names a voice directory under `modelsDir`
 * (layouts in `voice-layout.ts`), `TtsOptions.voice` an optional speaker id.
 *
 * Each voice is loaded once per process (`OfflineTts.createAsync`, off the event loop).
 * Synthesis runs in sherpa's worker thread (`generateAsync`) one sentence at a time
 * (`maxNumSentences: 1`); each sentence's audio is resampled from the model's rate to the
 * call's and yielded as soon as sherpa reports it, so the first audio comes after the first
 * sentence. An abort stops between sentences.
 */
import { LinearResampler } from '../../audio/resampler.js';
import { ProviderError } from '../../shared/provider-error.js';
import {
  assertModelDir,
  type ModelErrorContext,
  resolveModelDir,
} from '../../shared/sherpa-onnx/model-dir.js';
import { loadSherpaOnnx, type SherpaOfflineTts } from '../../shared/sherpa-onnx/native.js';
import { EventQueue } from '../../stt/event-queue.js';
import { checkedSpeed, type TtsOptions, type TtsProvider } from '../tts.js';
import { detectTtsVoice, type TtsVoiceLayout } from './voice-layout.js';

const PROVIDER = 'sherpa-onnx';
const CTX: ModelErrorContext = { type: 'tts_error', provider: PROVIDER };

export interface SherpaOnnxTtsOptions {
  /** Directory holding one sub-directory per voice. */
  modelsDir: string;
  /** onnxruntime threads per voice. */
  numThreads?: number;
  /** Voice directory used when a request names no model. */
  defaultModel?: string;
  /** Longest text accepted in one request (characters). */
  maxTextChars?: number;
  /**
   * espeak-ng data for Piper/Kokoro voices without their own `espeak-ng-data/` folder (e.g.
   * Debian's `/usr/lib/x86_64-linux-gnu/espeak-ng-data`). Never taken from a request.
   */
  espeakDataDir?: string;
}

export const defaultSherpaOnnxTtsOptions = {
  numThreads: 1,
  maxTextChars: 5000,
} as const satisfies Partial<SherpaOnnxTtsOptions>;

export interface LoadedTtsVoice {
  layout: TtsVoiceLayout;
  tts: SherpaOfflineTts;
  loadMs: number;
}

const voiceCache = new Map<string, Promise<LoadedTtsVoice>>();

/**
 * One generation at a time per voice: sherpa's text frontends (espeak-ng above all) keep global
 * state and are not documented as safe across threads. Requests are short (the engine sends a
 * sentence at a time), so waiting costs little; an aborted waiter leaves the line at once.
 */
const voiceTurns = new WeakMap<SherpaOfflineTts, Promise<void>>();

async function takeTurn(tts: SherpaOfflineTts, signal: AbortSignal): Promise<(() => void) | undefined> {
  const previous = voiceTurns.get(tts) ?? Promise.resolve();
  let release = () => {};
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  voiceTurns.set(
    tts,
    previous.then(() => mine),
  );
  let onAbort = () => {};
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  await Promise.race([previous, aborted]);
  signal.removeEventListener('abort', onAbort);
  if (signal.aborted) {
    release();
    return undefined;
  }
  return release;
}

async function loadVoice(
  dir: string,
  name: string,
  numThreads: number,
  espeakDataDir: string | undefined,
): Promise<LoadedTtsVoice> {
  await assertModelDir(dir, name, CTX);
  const layout = await detectTtsVoice(dir, name, CTX, espeakDataDir === undefined ? {} : { espeakDataDir });
  const started = performance.now();
  try {
    const tts = await loadSherpaOnnx().OfflineTts.createAsync({
      model: { ...layout.modelConfig, numThreads, provider: 'cpu', debug: 0 },
      maxNumSentences: 1,
    });
    return { layout, tts, loadMs: performance.now() - started };
  } catch (error) {
    throw failure(
      'model_load_failed',
      `sherpa-onnx could not load voice '${name}': ${messageOf(error)}`,
      error,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function failure(code: string, message: string, cause?: unknown): ProviderError {
  return new ProviderError({ type: 'tts_error', code, message, provider: PROVIDER, retryable: false, cause });
}

function toPcm16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round((samples[i] ?? 0) * 32767);
    out[i] = Math.min(32767, Math.max(-32768, v));
  }
  return out;
}

export function createSherpaOnnxTts(options: SherpaOnnxTtsOptions): SherpaOnnxTts {
  return new SherpaOnnxTts(options);
}

type GenerationEvent = { samples: Float32Array } | { error: unknown };

export class SherpaOnnxTts implements TtsProvider {
  readonly name = PROVIDER;
  readonly options: Required<Omit<SherpaOnnxTtsOptions, 'defaultModel' | 'espeakDataDir'>> &
    Pick<SherpaOnnxTtsOptions, 'defaultModel' | 'espeakDataDir'>;

  constructor(options: SherpaOnnxTtsOptions) {
    this.options = { ...defaultSherpaOnnxTtsOptions, ...options };
  }

  /** Loads (or returns the cached) voice; rejects with a ProviderError. */
  load(model: string | undefined): Promise<LoadedTtsVoice> {
    const name = model ?? this.options.defaultModel;
    const dir = resolveModelDir(this.options.modelsDir, name, CTX);
    const key = `${dir}\0${this.options.numThreads}\0${this.options.espeakDataDir ?? ''}`;
    let loading = voiceCache.get(key);
    if (!loading) {
      loading = loadVoice(dir, name ?? '', this.options.numThreads, this.options.espeakDataDir);
      voiceCache.set(key, loading);
      loading.catch(() => voiceCache.delete(key));
    }
    return loading;
  }

  async *synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array> {
    const speed = checkedSpeed(PROVIDER, options.speed);
    if (text.length > this.options.maxTextChars) {
      throw failure(
        'text_too_long',
        `text has ${text.length} characters; the limit is ${this.options.maxTextChars}`,
      );
    }
    if (signal.aborted || text.trim().length === 0) return;
    const voice = await this.load(options.model);
    if (signal.aborted) return;
    const sid = this.speakerId(options.voice, voice.tts.numSpeakers);
    const resampler =
      voice.tts.sampleRate === options.sampleRate
        ? undefined
        : new LinearResampler(voice.tts.sampleRate, options.sampleRate);

    const release = await takeTurn(voice.tts, signal);
    if (!release) return;
    const events = new EventQueue<GenerationEvent>();
    let stopped = false;
    const onAbort = () => {
      stopped = true;
      events.end();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // Started inside a promise so that even a synchronous throw releases the voice.
    const generation = Promise.resolve()
      .then(() =>
        voice.tts.generateAsync({
          text,
          sid,
          speed,
          enableExternalBuffer: false,
          onProgress: ({ samples }) => {
            if (stopped) return 0;
            // Copied: sherpa frees the buffer when the callback returns.
            events.push({ samples: samples.slice() });
            return 1;
          },
        }),
      )
      .then(
        () => events.end(),
        (error: unknown) => {
          events.push({ error });
          events.end();
        },
      )
      .finally(release);
    try {
      for await (const event of events) {
        if ('error' in event)
          throw failure(
            'synthesis_failed',
            `sherpa-onnx synthesis failed: ${messageOf(event.error)}`,
            event.error,
          );
        if (signal.aborted) return;
        const pcm = toPcm16(event.samples);
        const out = resampler ? resampler.process(pcm).slice() : pcm;
        if (out.length > 0) yield out;
      }
    } finally {
      stopped = true;
      signal.removeEventListener('abort', onAbort);
      // On an early stop the worker finishes its current sentence (then releases the voice);
      // nothing here waits for it.
      void generation;
    }
  }

  /** `voice` as a speaker id: absent → 0; must be an integer below the voice's speaker count. */
  private speakerId(voice: string | undefined, numSpeakers: number): number {
    if (voice === undefined || voice === '') return 0;
    const id = /^\d+$/.test(voice) ? Number(voice) : Number.NaN;
    const count = Math.max(1, numSpeakers);
    if (!Number.isSafeInteger(id) || id >= count) {
      throw failure('invalid_voice', `voice '${voice}' is not a speaker id of this model (0 … ${count - 1})`);
    }
    return id;
  }
}
