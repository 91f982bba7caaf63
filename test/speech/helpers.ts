import { readdirSync, readFileSync } from 'node:fs';
import type { TtsProvider } from '../../src/tts/tts.js';

export const never: AbortSignal = new AbortController().signal;

/** Deterministic low-level noise (a quiet room), so silence is never digital zero. */
export function noise(samples: number, amplitude = 30, seed = 1): Int16Array {
  const out = new Int16Array(samples);
  let s = seed;
  for (let i = 0; i < samples; i++) {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    out[i] = (s % (2 * amplitude + 1)) - amplitude;
  }
  return out;
}

export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export async function synthesize(
  tts: TtsProvider,
  text: string,
  sampleRate: 8000 | 16000,
): Promise<Int16Array> {
  const chunks: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { sampleRate }, never)) chunks.push(chunk);
  return concat(chunks);
}

export function frames(audio: Int16Array, frameSamples: number): Int16Array[] {
  const out: Int16Array[] = [];
  for (let i = 0; i + frameSamples <= audio.length; i += frameSamples)
    out.push(audio.subarray(i, i + frameSamples));
  return out;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

/** Live processes (zombies included) from /proc. */
export function processTable(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const [state = '', ppid = '0'] = stat.slice(close + 2).split(' ');
      out.push({ pid: Number(name), ppid: Number(ppid), state, comm });
    } catch {
      // Exited while we were looking.
    }
  }
  return out;
}

/** A process and all its descendants. */
export function processTree(root: number): ProcInfo[] {
  const table = processTable();
  const result = table.filter((p) => p.pid === root);
  for (let i = 0; i < result.length; i++) {
    const parent = result[i]?.pid;
    for (const p of table) if (p.ppid === parent) result.push(p);
  }
  return result;
}

/** Running (a zombie, exited but not yet reaped by init, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
