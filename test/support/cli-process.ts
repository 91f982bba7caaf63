import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const CLI = join(import.meta.dirname, '../../dist/cli.js');

export interface CliOptions {
  /** Working directory (the default data directory `./.parley` is relative to it). */
  cwd?: string;
  /** Kills the command (SIGKILL) if it has not exited by then; `code` is then null. */
  timeoutMs?: number;
  /** Sees stderr as it comes. */
  onStderr?: (soFar: string) => void;
}

/** Runs `parley <args>` to completion (the built CLI, as users run it). */
export async function runCli(args: string[], env: Record<string, string>, options: CliOptions = {}) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    options.onStderr?.(stderr);
  });
  const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Every log line so far. */
  lines: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `parley serve` on a free port and resolves once it listens. */
export async function startServeProcess(
  env: Record<string, string>,
  options: Pick<CliOptions, 'cwd'> = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', PARLEY_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      lines.push(line);
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`parley serve exited with ${code}: ${stderr}`)));
  });
  return {
    child,
    url,
    lines,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
