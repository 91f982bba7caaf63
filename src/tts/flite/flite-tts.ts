/**
 * Local text-to-speech with CMU Flite (Debian `flite`). Voices: `flite -lv` (kal, kal16, awb,
 * rms, slt, awb_time); default `kal16`, a 16 kHz male US voice, chosen by measurement
 * (`npm run bench:offline-dialog -- --voices`: 16 assistant sentences round trip through
 * pocketsphinx): 15 % word errors against `slt` 26 % and `rms` 27 %, and the first audio in about
 * half of `slt`'s time. `awb` (Scottish) measured 13 % but is slower; every voice stays selectable.
 *
 * Flite writes its WAV only when the whole input is synthesised, so long text is cut at
 * sentence boundaries into pieces of up to ~250 characters, one process each, streamed in order:
 * the first audio arrives after the first piece (~30 ms) instead of after all of it. Short text
 * (the engine sends one sentence at a time) stays in one piece, keeping Flite's own prosody.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ProviderError } from '../../shared/provider-error.js';
import { splitForSynthesis } from '../text-pieces.js';
import { checkedSpeed, type TtsOptions, type TtsProvider } from '../tts.js';
import { runWavProcess } from '../wav-process.js';

const PROVIDER = 'flite';

export interface FliteTtsOptions {
  /** Default `flite` (on PATH). */
  binary?: string;
  /** Default voice when a request names none. Default `kal16`. */
  voice?: string;
  /** Longest text given to one process. Default 250 characters. */
  maxPieceChars?: number;
}

/** Creates the provider after listing the installed voices (`flite -lv`). */
export async function createFliteTts(options: FliteTtsOptions = {}): Promise<FliteTts> {
  const binary = options.binary ?? 'flite';
  let voices: string[];
  try {
    const { stdout } = await promisify(execFile)(binary, ['-lv']);
    voices = stdout.replace(/^.*?:/s, '').trim().split(/\s+/).filter(Boolean);
  } catch (error) {
    throw new ProviderError({
      type: 'tts_error',
      code: 'binary_missing',
      message: `${binary} is not runnable (install flite): ${error instanceof Error ? error.message : String(error)}`,
      provider: PROVIDER,
      retryable: false,
      cause: error,
    });
  }
  return new FliteTts(binary, voices, options);
}

export class FliteTts implements TtsProvider {
  readonly name = PROVIDER;
  readonly defaultVoice: string;

  constructor(
    private readonly binary: string,
    readonly voices: readonly string[],
    private readonly options: FliteTtsOptions = {},
  ) {
    this.defaultVoice = options.voice ?? 'kal16';
  }

  async *synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array> {
    const voice = options.voice ?? this.defaultVoice;
    // Flite silently falls back to its default voice for an unknown name: refuse instead.
    if (!this.voices.includes(voice) && !voice.includes('/')) {
      throw new ProviderError({
        type: 'tts_error',
        code: 'invalid_voice',
        message: `flite voice '${voice}' is not installed (available: ${this.voices.join(', ')})`,
        provider: PROVIDER,
        retryable: false,
      });
    }
    const speed = checkedSpeed(PROVIDER, options.speed);
    for (const piece of splitForSynthesis(text, this.options.maxPieceChars ?? 250)) {
      const args = ['-voice', voice];
      if (speed !== 1) args.push('--setf', `duration_stretch=${(1 / speed).toFixed(3)}`);
      // `-t` takes the text as one argument (no shell), so leading dashes or quotes are harmless.
      args.push('-t', piece, '-o', '/dev/stdout');
      yield* runWavProcess({
        provider: PROVIDER,
        command: this.binary,
        args,
        // Flite opens its output file by name, which fails on the socket Node gives as stdout.
        pipeStdout: true,
        sampleRate: options.sampleRate,
        signal,
      });
    }
  }
}
