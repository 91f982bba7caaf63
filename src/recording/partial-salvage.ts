import { open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { wavHeader } from '../audio/wav.js';
import type { RecordingStorage } from './recording-storage.js';

/**
 * Recordings a crashed process left in `recordings/.partial/`: once their call has ended (the
 * crash recovery of some server finished it), the audio written so far (all but the last few
 * seconds, held in memory) is made a valid WAV file and stored where the call's recording is
 * looked up (`GET /v1/calls/:id/recording`); a file that cannot be read as a recording, or whose
 * call no longer exists, is removed. Calls still live somewhere are left alone.
 */
export interface SalvageOptions {
  /** `recordings/.partial` under the data directory. */
  dir: string;
  storage: RecordingStorage;
  /** Calls this process is recording now. */
  isRecording(callId: string): boolean;
  /** The call's status (`queued`, `ongoing`, `finished` …), or undefined when there is no such call. */
  callStatus(callId: string): Promise<string | undefined>;
  /**
   * Files written to more recently than this are left alone (default 30 s): a live recording is
   * written every second, also by another process sharing the data directory.
   */
  minAgeMs?: number;
  now?: () => number;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const PARTIAL_FILE = /^((?:WC|PC)-[0-9a-f-]{36})(\.stereo)?\.wav$/;
const LIVE = new Set(['queued', 'ongoing']);

/** Resolves with how many files were stored and removed. */
export async function salvagePartials(o: SalvageOptions): Promise<{ stored: number; removed: number }> {
  let names: string[];
  try {
    names = await readdir(o.dir);
  } catch {
    return { stored: 0, removed: 0 };
  }
  let stored = 0;
  let removed = 0;
  for (const name of names) {
    const path = join(o.dir, name);
    const match = PARTIAL_FILE.exec(name);
    const callId = match?.[1];
    try {
      if (!callId) continue;
      if (o.isRecording(callId)) continue;
      const { mtimeMs } = await stat(path);
      if ((o.now ?? Date.now)() - mtimeMs < (o.minAgeMs ?? 30_000)) continue;
      const status = await o.callStatus(callId);
      if (status !== undefined && LIVE.has(status)) continue;
      if (status !== undefined && (await completeWav(path))) {
        await o.storage.put(path, o.storage.keyOf(name));
        stored++;
        o.log?.warn({ callId, file: name }, 'stored the partial recording of a call a stopped server ran');
      } else {
        await rm(path, { force: true });
        removed++;
        o.log?.warn({ callId, file: name }, 'removed a partial recording that could not be salvaged');
      }
    } catch (error) {
      o.log?.error({ err: error, file: name }, 'salvaging a partial recording failed');
    }
  }
  return { stored, removed };
}

/**
 * Completes the header of a WAV file whose writer stopped (its data length is still 0): the
 * length becomes what was written, cut to whole sample frames. False when the file is not one
 * of our recordings (no PCM16 header) or holds no audio.
 */
export async function completeWav(path: string): Promise<boolean> {
  const { size } = await stat(path);
  if (size <= 44) return false;
  const handle = await open(path, 'r+');
  try {
    const header = Buffer.alloc(44);
    await handle.read(header, 0, 44, 0);
    const channels = header.readUInt16LE(22);
    const sampleRate = header.readUInt32LE(24);
    const pcm16 =
      header.toString('latin1', 0, 4) === 'RIFF' &&
      header.toString('latin1', 36, 40) === 'data' &&
      header.readUInt16LE(34) === 16 &&
      (channels === 1 || channels === 2) &&
      sampleRate >= 8000 &&
      sampleRate <= 48000;
    if (!pcm16) return false;
    const frame = 2 * channels;
    const dataBytes = Math.floor((size - 44) / frame) * frame;
    if (dataBytes === 0) return false;
    await handle.truncate(44 + dataBytes);
    await handle.write(wavHeader(dataBytes, sampleRate, channels), 0, 44, 0);
    return true;
  } finally {
    await handle.close();
  }
}
