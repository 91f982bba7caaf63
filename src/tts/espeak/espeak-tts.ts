/**
 * Local text-to-speech with eSpeak NG (Debian `espeak-ng`): `--stdout` streams a 22.05 kHz WAV
 * (placeholder data size) clause by clause as it synthesises, so chunks are resampled and
 * yielded as they arrive. The text goes through stdin, so it is never parsed as an option.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ProviderError } from '../../shared/provider-error.js';
import { checkedSpeed, type TtsOptions, type TtsProvider } from '../tts.js';
import { runWavProcess } from '../wav-process.js';

const PROVIDER = 'espeak-ng';
/** espeak-ng's default speaking rate, words per minute. */
const DEFAULT_WPM = 175;

export interface EspeakTtsOptions {
  /** Default `espeak-ng` (on PATH). */
  binary?: string;
  /** Default voice when a request names none. Default `en-us`. */
  voice?: string;
}

/** Creates the provider after checking the binary runs. */
export async function createEspeakTts(options: EspeakTtsOptions = {}): Promise<EspeakTts> {
  const binary = options.binary ?? 'espeak-ng';
  try {
    await promisify(execFile)(binary, ['--version']);
  } catch (error) {
    throw new ProviderError({
      type: 'tts_error',
      code: 'binary_missing',
      message: `${binary} is not runnable (install espeak-ng): ${error instanceof Error ? error.message : String(error)}`,
      provider: PROVIDER,
      retryable: false,
      cause: error,
    });
  }
  return new EspeakTts(binary, options.voice ?? 'en-us');
}

export class EspeakTts implements TtsProvider {
  readonly name = PROVIDER;

  constructor(
    private readonly binary: string,
    readonly defaultVoice: string,
  ) {}

  async *synthesize(text: string, options: TtsOptions, signal: AbortSignal): AsyncIterable<Int16Array> {
    if (text.trim().length === 0) return;
    const speed = checkedSpeed(PROVIDER, options.speed);
    // espeak-ng accepts 80 … 450 wpm.
    const wpm = Math.min(450, Math.max(80, Math.round(DEFAULT_WPM * speed)));
    const voice = options.voice ?? this.defaultVoice;
    yield* runWavProcess({
      provider: PROVIDER,
      command: this.binary,
      args: ['--stdout', '--stdin', '-v', voice, '-s', String(wpm)],
      stdin: text,
      sampleRate: options.sampleRate,
      signal,
    });
  }
}
