import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallRecorder } from '../../src/recording/call-recorder.js';
import { RecordingTransport } from '../../src/recording/recording-transport.js';
import { FakeTransport } from '../../src/testing/fake-transport.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { inspectWav } from './support.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-recorder-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const RATE = 8000;
const frame = (value: number, ms = 20) => new Int16Array((RATE * ms) / 1000).fill(value);
/** Mean absolute level of one channel between two times (ms). */
const level = (samples: Int16Array, channels: number, channel: number, fromMs: number, toMs: number) => {
  let sum = 0;
  let n = 0;
  for (let s = Math.round((fromMs * RATE) / 1000); s < Math.round((toMs * RATE) / 1000); s++) {
    sum += Math.abs(samples[s * channels + channel] ?? 0);
    n++;
  }
  return n ? sum / n : 0;
};

describe('CallRecorder', () => {
  it('places caller and assistant frames at their wall-clock positions, mono and stereo', async () => {
    const clock = new ManualClock();
    const files = { mono: join(dir, 'a.wav'), stereo: join(dir, 'a.stereo.wav') };
    const rec = new CallRecorder(clock, files);
    rec.begin(RATE);
    const start = clock.now();
    // The assistant speaks 0–400 ms (one frame every 20 ms), the caller 1000–1500 ms.
    for (let t = 0; t < 400; t += 20) {
      rec.assistant(frame(1000));
      await clock.advance(20);
    }
    await clock.advance(600);
    for (let t = 0; t < 500; t += 20) {
      await clock.advance(20);
      rec.user(frame(2000)); // a frame arrives when it has been spoken
    }
    // A burst: 200 ms of caller audio arriving at once after a 300 ms stall.
    await clock.advance(300);
    for (let i = 0; i < 10; i++) rec.user(frame(3000));
    await clock.advance(700);
    const duration = await rec.finish(start + 2600);
    expect(duration).toBe(2600);

    const mono = inspectWav(await readFile(files.mono));
    expect(mono.channels).toBe(1);
    expect(mono.durationMs).toBe(2600);
    const m = mono.wav.samples;
    expect(level(m, 1, 0, 0, 400)).toBe(1000);
    expect(level(m, 1, 0, 400, 1000)).toBe(0);
    expect(level(m, 1, 0, 1000, 1500)).toBe(2000);
    expect(level(m, 1, 0, 1500, 1780)).toBe(0);
    // The burst starts 20 ms before it arrived and plays on from there.
    expect(level(m, 1, 0, 1780, 1980)).toBe(3000);
    expect(level(m, 1, 0, 1980, 2600)).toBe(0);

    const stereo = inspectWav(await readFile(files.stereo));
    expect(stereo.channels).toBe(2);
    expect(stereo.durationMs).toBe(2600);
    expect(level(stereo.wav.samples, 2, 0, 1000, 1500)).toBe(2000);
    expect(level(stereo.wav.samples, 2, 1, 1000, 1500)).toBe(0);
    expect(level(stereo.wav.samples, 2, 1, 0, 400)).toBe(1000);
    expect(level(stereo.wav.samples, 2, 0, 0, 400)).toBe(0);
  });

  it('clear drops assistant audio sent ahead of playback; mixing saturates; long calls stream to disk', async () => {
    const clock = new ManualClock();
    const files = { mono: join(dir, 'b.wav') };
    const rec = new CallRecorder(clock, files);
    rec.begin(RATE);
    const start = clock.now();
    for (let i = 0; i < 50; i++) rec.assistant(frame(30000)); // 1 s sent at once
    await clock.advance(200);
    rec.clear(); // heard: 200 ms
    rec.user(frame(30000)); // 180–200 ms: both at full scale
    // 20 s more of silence from the caller, in real time: earlier blocks are written out meanwhile.
    for (let t = 0; t < 20_000; t += 20) {
      await clock.advance(20);
      rec.user(frame(0));
    }
    // Written before the call ends (the disk write itself is asynchronous: wait for it, do not race it).
    await expect.poll(async () => (await stat(files.mono)).size).toBeGreaterThan(44 + 2 * RATE * 10);
    await rec.finish(start + 20_300);
    const wav = inspectWav(await readFile(files.mono));
    expect(wav.durationMs).toBe(20_300);
    expect(level(wav.wav.samples, 1, 0, 0, 180)).toBe(30000);
    expect(level(wav.wav.samples, 1, 0, 180, 200)).toBe(32767);
    expect(level(wav.wav.samples, 1, 0, 200, 20_300)).toBe(0);
  });

  it('drops audio that runs more than 5 s ahead of the clock (a client sending too fast)', async () => {
    const clock = new ManualClock();
    const files = { mono: join(dir, 'e.wav') };
    const rec = new CallRecorder(clock, files);
    rec.begin(RATE);
    for (let i = 0; i < 3000; i++) rec.user(frame(100)); // 60 s of audio at once
    await clock.advance(1000);
    expect(await rec.finish()).toBe(1000);
    const wav = inspectWav(await readFile(files.mono));
    expect(level(wav.wav.samples, 1, 0, 0, 1000)).toBe(100);
  });

  it('a call that never connects leaves no file', async () => {
    const rec = new CallRecorder(new ManualClock(), { mono: join(dir, 'c.wav') });
    expect(await rec.finish()).toBeUndefined();
    await expect(stat(join(dir, 'c.wav'))).rejects.toThrow();
  });

  it('RecordingTransport passes everything through and taps hello, audio both ways and clear', async () => {
    const clock = new ManualClock();
    const inner = new FakeTransport();
    const rec = new CallRecorder(clock, { mono: join(dir, 'd.wav') });
    const t = new RecordingTransport(inner, rec);
    expect(t.kind).toBe(inner.kind);
    const heard: string[] = [];
    t.start({
      onHello: () => heard.push('hello'),
      onAudio: () => heard.push('audio'),
      onUserText: () => heard.push('text'),
      onMark: () => heard.push('mark'),
      onSay: () => heard.push('say'),
      onEnd: () => heard.push('end'),
      onClose: () => heard.push('close'),
    });
    expect(rec.started).toBe(false);
    inner.hello({ sampleRate: RATE, frameMs: 20, audioOutput: true, marks: false });
    expect(rec.started).toBe(true);
    inner.audio(frame(500));
    t.sendAudio(frame(700));
    t.clear();
    expect(heard).toEqual(['hello', 'audio']);
    expect(inner.audioFrames).toBe(1);
    expect(inner.of('clear')).toHaveLength(1);
    await clock.advance(100);
    expect(await rec.finish()).toBe(100);
  });
});
