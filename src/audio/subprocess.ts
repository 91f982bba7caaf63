/**
 * Spawning speech engines behind real pipes.
 *
 * Node gives a child sockets as stdio, and engines that open `/dev/stdin` or `/dev/stdout` by
 * name (pocketsphinx `-infile`, flite `-o`) fail on a socket (ENXIO). So a `cat` goes between
 * Node and the engine, inside a small bash script that leads its own process group:
 * - input side: `cat` feeds the engine through a process substitution (a real pipe); the shell
 *   waits for the engine, then stops `cat` (which would otherwise sit on its socket forever when
 *   the engine dies early) and exits with the engine's status;
 * - output side: `engine | cat` with `pipefail`, so the engine's status is the pipeline's.
 * The shell traps SIGTERM with a handler (handlers, unlike ignored signals, are reset by exec):
 * `terminate()` signals the whole group, the engine and `cat` die, the shell reaps them and
 * exits 143. Nothing is orphaned or left a zombie; SIGKILL to the group is only a fallback.
 *
 * Hand-written: no npm library does this (execa & co. spawn one process and use sockets too).
 */
import { type ChildProcess, spawn } from 'node:child_process';

const INPUT_SCRIPT = [
  "trap 'kill -TERM $e $c 2>/dev/null' TERM",
  'exec 3< <(exec cat); c=$!',
  '"$0" "$@" <&3 3<&- & e=$!',
  'exec 3<&-',
  'while :; do wait "$e"; s=$?; kill -0 "$e" 2>/dev/null || break; done',
  'kill -TERM "$c" 2>/dev/null; wait "$c" 2>/dev/null',
  'exit "$s"',
].join('\n');
const OUTPUT_SCRIPT = 'set -o pipefail; trap "exit 143" TERM; "$0" "$@" | cat';
const DIRECT_SCRIPT = 'exec "$0" "$@"';

export interface PipedSpawnOptions {
  /** Give the engine a stdin Node can write to (a socket unless `pipeStdin`). */
  stdin?: boolean;
  /** Put a real pipe in front of the engine's stdin (via `cat`); implies `stdin`. */
  pipeStdin?: boolean;
  /** Put a real pipe behind the engine's stdout (via `cat`). */
  pipeStdout?: boolean;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the shell itself could not be spawned. */
  error?: Error;
}

/** Exit status of the shell when `terminate()` stopped it. */
export const TERMINATED_EXIT_CODE = 143;

export class PipedProcess {
  readonly child: ChildProcess;
  /** Resolves once the shell (and so the engine) has exited and been reaped. */
  readonly exited: Promise<ProcessExit>;
  private done = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(command: string, args: readonly string[], options: PipedSpawnOptions = {}) {
    if (options.pipeStdin && options.pipeStdout)
      throw new Error('PipedProcess: pipe stdin or stdout, not both');
    const script = options.pipeStdin ? INPUT_SCRIPT : options.pipeStdout ? OUTPUT_SCRIPT : DIRECT_SCRIPT;
    this.child = spawn('bash', ['-c', script, command, ...args], {
      stdio: [options.pipeStdin || options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    // EPIPE when the engine died early is reported through its exit status.
    this.child.stdin?.on('error', () => {});
    this.exited = new Promise((resolve) => {
      const finish = (exit: ProcessExit) => {
        if (this.done) return;
        this.done = true;
        clearTimeout(this.killTimer);
        resolve(exit);
      };
      this.child.once('error', (error) => {
        if (this.child.pid === undefined) finish({ code: null, signal: null, error });
      });
      this.child.once('close', (code, signal) => finish({ code, signal }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isDone(): boolean {
    return this.done;
  }

  /** SIGTERM to the whole group now, SIGKILL to it if it is still there after `killAfterMs`. */
  terminate(killAfterMs = 1000): void {
    if (this.done) return;
    this.child.stdin?.destroy();
    this.signalGroup('SIGTERM');
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), killAfterMs);
    this.killTimer.unref();
  }

  /** Closes stdin (the engine sees end of input) and terminates if it has not exited in time. */
  endInput(graceMs: number): void {
    if (this.done) return;
    this.child.stdin?.end();
    if (this.killTimer === undefined) {
      this.killTimer = setTimeout(() => this.terminate(), graceMs);
      this.killTimer.unref();
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.done) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }
}
