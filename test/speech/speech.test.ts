/**
 * Local speech stack end to end, with the real engines (scripts/install-system-deps.sh):
 * flite/espeak-ng TTS, WebRTC VAD, pocketsphinx STT.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../src/shared/provider-error.js';
import { createPocketsphinxStt, type PocketsphinxStt } from '../../src/stt/pocketsphinx/index.js';
import type { SttEvent, SttStream } from '../../src/stt/stt.js';
import { createEspeakTts, type EspeakTts } from '../../src/tts/espeak/index.js';
import { createFliteTts, type FliteTts } from '../../src/tts/flite/index.js';
import { Activity, ActivityDetector } from '../../src/vad/activity-detector.js';
import { createWebRtcVad } from '../../src/vad/webrtc/index.js';
import { concat, frames, isAlive, never, noise, processTable, processTree, synthesize } from './helpers.js';

type Final = Extract<SttEvent, { type: 'final' }>;

let flite: FliteTts;
let espeak: EspeakTts;
let stt: PocketsphinxStt;

beforeAll(async () => {
  [flite, espeak, stt] = await Promise.all([
    createFliteTts({ voice: 'slt' }),
    createEspeakTts(),
    createPocketsphinxStt(),
  ]);
  return () => stt.close();
});

const PHRASES = ['Book an appointment for Tuesday', 'cancel my appointment', 'talk to a human', 'yes', 'no'];

/** Pushes `audio` frame by frame (as a call would, only faster than real time). */
function pushAudio(stream: SttStream, audio: Int16Array, frameSamples: number): void {
  for (const f of frames(audio, frameSamples)) stream.push(f);
}

async function nextFinal(iterator: AsyncIterator<SttEvent>): Promise<Final> {
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) throw new Error('stream ended before a final');
    if (value.type === 'error') throw value.error;
    if (value.type === 'final') return value;
  }
}

describe('flite and espeak-ng TTS', () => {
  it('flite synthesises at 16 kHz and 8 kHz with matching durations', async () => {
    const a16 = await synthesize(flite, 'book an appointment for tuesday', 16000);
    const a8 = await synthesize(flite, 'book an appointment for tuesday', 8000);
    expect(a16.length).toBeGreaterThan(16000 * 1.5);
    expect(Math.abs(a8.length * 2 - a16.length)).toBeLessThanOrEqual(4);
    expect(Math.max(...a16.subarray(0, 20000))).toBeGreaterThan(3000);
  });

  it('flite streams long text piece by piece, speed changes the duration', async () => {
    const text = 'This is the first sentence. '.repeat(12);
    let chunks = 0;
    for await (const _ of flite.synthesize(text, { sampleRate: 16000 }, never)) chunks++;
    expect(chunks).toBeGreaterThan(1);
    const normal = await synthesize(flite, 'how are you today', 16000);
    const fast: Int16Array[] = [];
    for await (const c of flite.synthesize('how are you today', { sampleRate: 16000, speed: 2 }, never))
      fast.push(c);
    expect(concat(fast).length).toBeLessThan(normal.length * 0.7);
  });

  it('espeak-ng streams 22.05 kHz output resampled to 8 kHz; empty text gives no audio', async () => {
    const audio = await synthesize(espeak, 'hello, this is a test of espeak', 8000);
    expect(audio.length).toBeGreaterThan(8000);
    expect(Math.max(...audio)).toBeGreaterThan(2000);
    expect((await synthesize(espeak, '   ', 8000)).length).toBe(0);
    expect((await synthesize(flite, '', 8000)).length).toBe(0);
  });

  it('rejects an unknown voice with a tts_error', async () => {
    const run = async () => {
      for await (const _ of flite.synthesize('hi', { sampleRate: 16000, voice: 'nobody' }, never)) {
        // drain
      }
    };
    await expect(run()).rejects.toMatchObject({ type: 'tts_error', code: 'invalid_voice' });
    const bad = async () => {
      for await (const _ of espeak.synthesize('hi', { sampleRate: 16000, voice: 'nobody' }, never)) {
        // drain
      }
    };
    await expect(bad()).rejects.toBeInstanceOf(ProviderError);
    await expect(bad()).rejects.toMatchObject({ type: 'tts_error', code: 'synthesis_failed' });
  });

  it('abort stops synthesis promptly and leaves no process behind', async () => {
    for (const tts of [flite, espeak]) {
      const controller = new AbortController();
      const before = new Set(processTable().map((p) => p.pid));
      let chunks = 0;
      const run = async () => {
        for await (const _ of tts.synthesize(
          'A rather long sentence to speak. '.repeat(40),
          { sampleRate: 8000 },
          controller.signal,
        )) {
          chunks++;
          controller.abort(new Error('barge-in'));
        }
      };
      await expect(run()).rejects.toThrow('barge-in');
      expect(chunks).toBe(1);
      const leftovers = processTable().filter((p) => p.ppid === process.pid && !before.has(p.pid));
      expect(leftovers).toEqual([]);
    }
  });
});

describe('WebRTC VAD', () => {
  it('flags synthesised speech and not silence, allocation-free per frame', async () => {
    const vad = await createWebRtcVad({ sampleRate: 16000, frameMs: 20, aggressiveness: 2 });
    const speech = await synthesize(flite, 'book an appointment for tuesday', 16000);
    const quiet = noise(16000);
    const speechFrames = frames(speech, vad.frameSamples);
    const speechHits = speechFrames.filter((f) => vad.isSpeech(f)).length;
    const silenceHits = frames(quiet, vad.frameSamples).filter((f) => vad.isSpeech(f)).length;
    expect(speechHits / speechFrames.length).toBeGreaterThan(0.6);
    expect(silenceHits).toBe(0);
    expect(() => vad.isSpeech(new Int16Array(100))).toThrow(/320 samples/);
    vad.close();
    expect(() => vad.isSpeech(new Int16Array(320))).toThrow(/closed/);
  });

  it('drives the activity detector: one segment around the spoken phrase at 8 kHz', async () => {
    const vad = await createWebRtcVad({ sampleRate: 8000, frameMs: 30, aggressiveness: 3 });
    const detector = new ActivityDetector({ frameMs: 30, minSpeechMs: 200, minSilenceMs: 500 });
    const speech = await synthesize(flite, 'book an appointment for tuesday', 8000);
    const audio = concat([noise(8000), speech, noise(8000)]);
    const edges: string[] = [];
    for (const f of frames(audio, vad.frameSamples)) {
      const edge = detector.push(vad.isSpeech(f));
      if (edge === Activity.SpeechStart) edges.push(`start@${detector.speechStartMs}`);
      if (edge === Activity.SpeechEnd) edges.push(`end@${detector.speechEndMs}`);
    }
    vad.close();
    expect(edges).toHaveLength(2);
    const start = Number(edges[0]?.split('@')[1]);
    const end = Number(edges[1]?.split('@')[1]);
    // Speech sits at 1000 ms … 1000 ms + the phrase (flite pads ~0.25 s of silence around it).
    expect(start).toBeGreaterThanOrEqual(1000);
    expect(start).toBeLessThan(1400);
    const phraseEnd = 1000 + (speech.length / 8000) * 1000;
    expect(end).toBeGreaterThan(phraseEnd - 600);
    expect(end).toBeLessThanOrEqual(phraseEnd);
  });
});

describe('pocketsphinx STT', () => {
  it('plans a grammar only when every word is in the dictionary', () => {
    const plan = stt.plan(PHRASES);
    expect(plan.kind).toBe('grammar');
    if (plan.kind === 'grammar') {
      expect(plan.jsgf).toContain('<phrase> = book an appointment for tuesday | cancel my appointment |');
      expect(plan.dict).toMatch(/^tuesday\(2\) /m);
    }
    expect(stt.plan(['see you at 3pm'])).toMatchObject({
      kind: 'open',
      reason: "'3pm' is not in the dictionary",
    });
    expect(stt.plan(['zzyzxq please'])).toMatchObject({ kind: 'open' });
    expect(stt.plan([])).toMatchObject({ kind: 'open' });
    expect(stt.plan(undefined)).toMatchObject({ kind: 'open' });
  });

  it('round trip with a grammar: flite -> pocketsphinx recognises the phrase exactly, with offsets', async () => {
    const speech = await synthesize(flite, 'book an appointment for tuesday', 16000);
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US', expectedPhrases: PHRASES }, never);
    const it = stream[Symbol.asyncIterator]();
    const before = Date.now();
    pushAudio(stream, concat([noise(8000), speech]), 320);
    stream.flush();
    const final = await nextFinal(it);
    expect(final.text).toBe('book an appointment for tuesday');
    expect(final.confidence).toBeUndefined();
    // Speech is pushed from 500 ms on and lasts speech.length / 16 ms (flite pads ~250 ms).
    const speechEndMs = 500 + speech.length / 16;
    expect(final.startOffsetMs).toBeGreaterThan(200);
    expect(final.startOffsetMs).toBeLessThan(1000);
    expect(final.endOffsetMs).toBeGreaterThan(speechEndMs - 600);
    expect(final.endOffsetMs).toBeLessThanOrEqual(speechEndMs + 300);
    expect(final.timestampMs).toBeGreaterThanOrEqual(before);

    // Next turn expects something else: the stream switches grammar, offsets keep counting.
    stream.setExpectedPhrases?.(['yes', 'no', 'cancel my appointment']);
    const second = await synthesize(flite, 'cancel my appointment', 16000);
    pushAudio(stream, concat([noise(8000), second]), 320);
    stream.flush();
    const final2 = await nextFinal(it);
    expect(final2.text).toBe('cancel my appointment');
    expect(final2.startOffsetMs).toBeGreaterThan(final.endOffsetMs);
    const pushedMs = 500 + speech.length / 16 + 500 + second.length / 16;
    expect(final2.endOffsetMs).toBeLessThanOrEqual(pushedMs + 300);
    await stream.close();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('round trip at 8 kHz (telephony) with a grammar', async () => {
    const speech = await synthesize(flite, 'talk to a human', 8000);
    const stream = stt.stream({ sampleRate: 8000, language: 'en-US', expectedPhrases: PHRASES }, never);
    const it = stream[Symbol.asyncIterator]();
    pushAudio(stream, concat([noise(4000), speech]), 160);
    stream.flush();
    expect((await nextFinal(it)).text).toBe('talk to a human');
    await stream.close();
  });

  it('close() finalises the utterance in progress, then ends the iteration', async () => {
    const speech = await synthesize(flite, 'yes', 16000);
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US', expectedPhrases: PHRASES }, never);
    pushAudio(stream, concat([noise(4000), speech]), 320);
    const closed = stream.close();
    const events: SttEvent[] = [];
    for await (const event of stream) events.push(event);
    await closed;
    expect(events.map((e) => (e.type === 'final' ? e.text : e.type))).toEqual(['yes']);
  });

  it('open vocabulary round trip yields words with a confidence', async () => {
    const speech = await synthesize(flite, 'i would like to book an appointment', 16000);
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US' }, never);
    const it = stream[Symbol.asyncIterator]();
    pushAudio(stream, concat([noise(8000), speech]), 320);
    stream.flush();
    const final = await nextFinal(it);
    expect(final.text.split(' ').length).toBeGreaterThan(0);
    expect(final.text).toMatch(/^[a-z' ]+$/);
    expect(final.confidence).toBeGreaterThanOrEqual(0);
    expect(final.confidence).toBeLessThanOrEqual(1);
    expect(final.endOffsetMs).toBeGreaterThan(final.startOffsetMs);
    await stream.close();
  });

  it('abort kills the decoder processes (shell, cat, pocketsphinx) and ends the stream', async () => {
    const controller = new AbortController();
    const stream = stt.stream({ sampleRate: 16000, language: 'en-US' }, controller.signal);
    const it = stream[Symbol.asyncIterator]();
    // Switch to a grammar: the open-model decoder stays warm, so two decoders are alive.
    stream.setExpectedPhrases?.(PHRASES);
    pushAudio(stream, noise(16000), 320);
    const shells = (stream as unknown as { decoderPids: number[] }).decoderPids;
    expect(shells).toHaveLength(2);
    // The shells fork cat and the decoder right after spawning: poll until both are there.
    const tree = await vi.waitFor(() => {
      const found = shells.flatMap((pid) => processTree(pid));
      expect(found.filter((p) => p.comm.startsWith('pocketsphinx'))).toHaveLength(shells.length);
      expect(found.filter((p) => p.comm === 'cat')).toHaveLength(shells.length);
      return found;
    });
    controller.abort();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    await stream.close(); // resolves once every decoder has exited and been reaped
    // An orphaned `cat` is reaped by init, which can lag: wait for each to be gone.
    await vi.waitFor(() => {
      for (const p of tree) expect(isAlive(p.pid), `${p.comm} (${p.pid})`).toBe(false);
    });
    stream.push(new Int16Array(320)); // ignored after abort
  });

  it('reports a failing decoder as an stt_error event', async () => {
    const broken = await createPocketsphinxStt({ extraArgs: ['-no_such_flag', 'x'] });
    const stream = broken.stream({ sampleRate: 16000, language: 'en-US' }, never);
    const events: SttEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events).toHaveLength(1);
    const error = events[0]?.type === 'error' ? events[0].error : undefined;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ type: 'stt_error', code: 'decoder_exited', provider: 'pocketsphinx' });
    await broken.close();
    const german = stt.stream({ sampleRate: 16000, language: 'de-DE' }, never);
    const events2: SttEvent[] = [];
    for await (const event of german) events2.push(event);
    expect(events2).toHaveLength(1);
    expect(events2[0]).toMatchObject({ type: 'error', error: { code: 'unsupported_language' } });
  });
});
