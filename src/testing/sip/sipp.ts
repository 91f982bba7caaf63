/**
 * Runs SIPp (Debian `sip-tester`, installed by scripts/install-system-deps.sh) with one of the
 * scenarios of `scenarios/` against a SIP endpoint on 127.0.0.1: the scenario's `{{name}}`
 * placeholders are filled in, one call is made, and the run is time-boxed. Resolves with SIPp's
 * exit code (0: every step of the scenario passed) and its error log.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SIPP_BINARY = '/usr/bin/sipp';
export const sippAvailable = (): boolean => existsSync(SIPP_BINARY);

const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

export type SippScenario = 'uac-call' | 'uac-cancel' | 'uac-options' | 'uac-unknown-number';

export interface SippRun {
  code: number | null;
  /** SIPp's stderr and its `-trace_err` log (unexpected messages). */
  errors: string;
  stdout: string;
}

export async function runSipp(options: {
  scenario: SippScenario;
  /** Parley's SIP address. */
  target: { host: string; port: number };
  /** The Request-URI user part (the number called). */
  service: string;
  /** Placeholder values of the scenario. */
  values?: Record<string, string | number>;
  /** SIPp's RTP port (`-mp`). */
  mediaPort?: number;
  timeoutMs?: number;
}): Promise<SippRun> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-sipp-'));
  try {
    let xml = await readFile(join(SCENARIOS, `${options.scenario}.xml`), 'utf8');
    for (const [name, value] of Object.entries(options.values ?? {}))
      xml = xml.replaceAll(`{{${name}}}`, String(value));
    const missing = /\{\{(\w+)\}\}/.exec(xml.replace(/<!--[\s\S]*?-->/g, ''));
    if (missing) throw new Error(`scenario ${options.scenario}: no value for {{${missing[1]}}}`);
    const file = join(dir, `${options.scenario}.xml`);
    await writeFile(file, xml);
    const timeoutS = Math.ceil((options.timeoutMs ?? 30_000) / 1000);
    const args = [
      `${options.target.host}:${options.target.port}`,
      '-sf',
      file,
      '-s',
      options.service,
      '-i',
      '127.0.0.1',
      '-mi',
      '127.0.0.1',
      '-mp',
      String(options.mediaPort ?? 0),
      '-m',
      '1',
      '-nostdin',
      '-timeout',
      `${timeoutS}s`,
      '-timeout_error',
      '-recv_timeout',
      `${timeoutS * 1000}`,
      '-trace_err',
      '-error_file',
      join(dir, 'errors.log'),
    ];
    const run = await new Promise<SippRun>((resolve) => {
      execFile(
        SIPP_BINARY,
        args,
        { cwd: dir, timeout: (timeoutS + 10) * 1000, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({ code, stdout, errors: stderr });
        },
      );
    });
    const log = await readFile(join(dir, 'errors.log'), 'utf8').catch(() => '');
    return { ...run, errors: `${run.errors}${log}`.trim() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
