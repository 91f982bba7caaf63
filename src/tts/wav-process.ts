/**
 * Runs a TTS engine that writes a WAV stream to stdout and yields its audio as mono PCM16
 * chunks at the requested rate, as they arrive. Abort terminates the engine (process group,
 * see `PipedProcess`); failures become `ProviderError` (`tts_error`).
 */
import { LinearResampler } from '../audio/resampler.js';
import { PipedProcess } from '../audio/subprocess.js';
import { WavFormatError, WavStreamReader } from '../audio/wav.js';
import { ProviderError } from '../shared/provider-error.js';

export interface WavProcessOptions {
  provider: string;
  command: string;
  args: readonly string[];
  /** Written to stdin, then stdin is closed (stdin is ignored when undefined). */
  stdin?: string;
  /** The engine opens its output by name (`-o /dev/stdout`): give it a real pipe. */
  pipeStdout?: boolean;
  sampleRate: number;
  signal: AbortSignal;
}

const STDERR_TAIL = 1024;

function ttsError(
  provider: string,
  code: string,
  message: string,
  retryable: boolean,
  cause?: unknown,
): ProviderError {
  return new ProviderError({ type: 'tts_error', code, message, provider, retryable, cause });
}

export async function* runWavProcess(o: WavProcessOptions): AsyncGenerator<Int16Array> {
  o.signal.throwIfAborted();
  const proc = new PipedProcess(o.command, o.args, {
    stdin: o.stdin !== undefined,
    pipeStdout: o.pipeStdout,
  });
  const child = proc.child;
  const stdout = child.stdout;
  if (!stdout || !child.stderr) throw new Error('spawn: stdio pipes missing');
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  const onAbort = () => {
    proc.terminate();
    stdout.destroy();
  };
  o.signal.addEventListener('abort', onAbort, { once: true });
  if (o.stdin !== undefined) child.stdin?.end(o.stdin);
  const reader = new WavStreamReader();
  let resampler: LinearResampler | undefined;
  try {
    try {
      for await (const chunk of stdout as AsyncIterable<Buffer>) {
        const samples = reader.push(chunk);
        if (samples.length === 0) continue;
        const rate = reader.header?.sampleRate ?? o.sampleRate;
        if (rate === o.sampleRate) {
          yield samples.slice();
          continue;
        }
        resampler ??= new LinearResampler(rate, o.sampleRate);
        const out = resampler.process(samples);
        if (out.length > 0) yield out.slice();
      }
    } catch (error) {
      if (o.signal.aborted) o.signal.throwIfAborted();
      if (error instanceof WavFormatError) {
        throw ttsError(o.provider, 'bad_audio', `${o.command} produced ${error.message}`, false, error);
      }
      throw ttsError(
        o.provider,
        'stream_failed',
        `reading ${o.command} output failed: ${String(error)}`,
        true,
        error,
      );
    }
    o.signal.throwIfAborted();
    const { code, signal, error: spawnError } = await proc.exited;
    o.signal.throwIfAborted();
    if (spawnError) {
      const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
      throw ttsError(
        o.provider,
        missing ? 'binary_missing' : 'spawn_failed',
        missing ? `${o.command} not found on PATH` : `${o.command}: ${spawnError.message}`,
        false,
        spawnError,
      );
    }
    if (code !== 0) {
      if (code === 127) {
        throw ttsError(o.provider, 'binary_missing', `${o.command} not found on PATH`, false);
      }
      const detail = stderr.trim().split('\n').pop() ?? '';
      throw ttsError(
        o.provider,
        'synthesis_failed',
        `${o.command} exited with ${signal ?? `code ${code}`}${detail ? `: ${detail}` : ''}`,
        true,
      );
    }
    if (!reader.header) throw ttsError(o.provider, 'bad_audio', `${o.command} produced no WAV header`, false);
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    if (!proc.isDone) proc.terminate();
    await proc.exited;
  }
}
