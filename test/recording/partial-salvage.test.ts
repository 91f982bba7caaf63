import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wavHeader } from '../../src/audio/wav.js';
import { insertCall } from '../../src/calls/call-store.js';
import { CallRecorder } from '../../src/recording/call-recorder.js';
import { RecordingService } from '../../src/recording/recording-service.js';
import { LocalRecordingStorage } from '../../src/recording/recording-storage.js';
import { newWebCallId } from '../../src/shared/ids.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { sampleCall } from '../support/samples.js';
import { startTestServer } from '../support/test-server.js';
import { inspectWav } from './support.js';

/** Issue 11 item 17: a crashed call's partial recording is salvaged (or removed), never left behind. */
let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'parley-salvage-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

const RATE = 8000;
const partialDir = () => join(dataDir, 'recordings', '.partial');

function service() {
  return new RecordingService({
    storage: new LocalRecordingStorage(dataDir),
    dataDir,
    publicUrl: 'http://127.0.0.1:1',
    signingKey: Buffer.alloc(32, 1),
    // A minute later: the files are no longer being written (a live recording is left alone).
    now: () => Date.now() + 60_000,
  });
}

/** Records `seconds` of caller audio, then "crashes": the recorder is never finished. */
async function crashedRecording(callId: string, seconds: number, stereo = false): Promise<void> {
  const clock = new ManualClock();
  const mono = join(partialDir(), `${callId}.wav`);
  const rec = new CallRecorder(clock, {
    mono,
    ...(stereo ? { stereo: join(partialDir(), `${callId}.stereo.wav`) } : {}),
  });
  rec.begin(RATE);
  for (let t = 0; t < seconds * 1000; t += 20) {
    rec.user(new Int16Array(RATE / 50).fill(1000));
    await clock.advance(20);
  }
  // Blocks older than the 5 s held in memory reach the disk; wait for those writes.
  const expected = 44 + (seconds - 6) * RATE * 2;
  const deadline = Date.now() + 5_000;
  while ((await stat(mono).catch(() => ({ size: 0 }))).size < expected) {
    if (Date.now() > deadline) throw new Error('the recorder wrote nothing');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('partial recordings left by a crash', () => {
  it('are stored as valid WAV files once their call has ended, and removed from .partial', async () => {
    const id = newWebCallId();
    await crashedRecording(id, 9, true);
    const recordings = service();
    // Still live on some server: left alone.
    expect(await recordings.salvage(async () => 'ongoing')).toEqual({ stored: 0, removed: 0 });
    expect(await readdir(partialDir())).toHaveLength(2);
    // Finished by crash recovery: stored where GET /v1/calls/:id/recording looks.
    expect(await recordings.salvage(async () => 'finished')).toEqual({ stored: 2, removed: 0 });
    expect(await readdir(partialDir())).toEqual([]);
    const info = inspectWav(await readFile(join(dataDir, 'recordings', `${id}.wav`)));
    expect(info.sampleRate).toBe(RATE);
    expect(info.channels).toBe(1);
    expect(info.durationMs).toBeGreaterThanOrEqual(3000);
    expect(info.peaks).toEqual([1000]);
    const stored = await recordings.locate({ id, recording: {} });
    expect(stored?.kind).toBe('file');
    const stereo = inspectWav(await readFile(join(dataDir, 'recordings', `${id}.stereo.wav`)));
    expect(stereo.channels).toBe(2);
  });

  it('are removed when the call is gone or the file holds no readable recording', async () => {
    const orphan = newWebCallId();
    await crashedRecording(orphan, 7);
    const unreadable = newWebCallId();
    await mkdir(partialDir(), { recursive: true });
    await writeFile(join(partialDir(), `${unreadable}.wav`), Buffer.alloc(44 + 1000));
    const recordings = service();
    const status = async (callId: string) => (callId === orphan ? undefined : 'finished');
    expect(await recordings.salvage(status)).toEqual({ stored: 0, removed: 2 });
    expect(await readdir(partialDir())).toEqual([]);
    expect(await readdir(join(dataDir, 'recordings'))).toEqual(['.partial']);
  });

  it('a file written to in the last 30 s is left alone (a live recording, maybe of another process)', async () => {
    const id = newWebCallId();
    await crashedRecording(id, 7);
    const now = service();
    now.now = () => Date.now();
    expect(await now.salvage(async () => 'finished')).toEqual({ stored: 0, removed: 0 });
    expect(await readdir(partialDir())).toEqual([`${id}.wav`]);
  });

  it('a recording in progress in this process is never touched', async () => {
    const recordings = service();
    const id = newWebCallId();
    recordings.start(id, { clock: new ManualClock() });
    await mkdir(partialDir(), { recursive: true });
    await writeFile(join(partialDir(), `${id}.wav`), Buffer.alloc(100));
    expect(await recordings.salvage(async () => 'finished')).toEqual({ stored: 0, removed: 0 });
  });
});

describe('a server at start', () => {
  it("stores a finished call's partial recording, served by GET /v1/calls/:id/recording", async () => {
    const server = await startTestServer();
    try {
      const { key, teamId } = await server.createTeam('salvage');
      const call = sampleCall({ teamId, assistantId: '65f000000000000000000001', status: 'finished' });
      await insertCall(server.database.db, call);
      // What a crashed writer leaves: the header as opened (length 0), then two seconds of audio.
      const dir = join(server.dataDir, 'recordings', '.partial');
      await mkdir(dir, { recursive: true });
      const audio = Buffer.alloc(2 * RATE * 2, 0x10);
      await writeFile(join(dir, `${call.id}.wav`), Buffer.concat([wavHeader(0, RATE, 1), audio]));
      const aMinuteAgo = new Date(Date.now() - 60_000);
      await utimes(join(dir, `${call.id}.wav`), aMinuteAgo, aMinuteAgo);
      await server.restart();
      await server.parley.calls.recordings?.idle();
      const res = await server.request(key, { method: 'GET', url: `/v1/calls/${call.id}/recording` });
      expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
      expect(inspectWav(res.rawPayload).durationMs).toBe(2000);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
