/**
 * Phone-band recognition offline (issue 16 item 4): sentences a caller says, synthesised by
 * flite and espeak-ng, recognised by pocketsphinx at 16 kHz, and as a phone line carries them
 * (8 kHz µ-law, upsampled for the wideband model) with the empty band above 4 kHz left empty
 * or filled with faint noise at several levels. Prints word error rates per voice and setting,
 * open vocabulary and with the sentences as a grammar, and the machine.
 *
 *   npx tsx bench/phone-band/run.ts            (BENCH_LEVELS=0,30,60,120 to choose levels)
 */
import os from 'node:os';
import { mulawDecode, mulawEncode } from '../../src/audio/g711.js';
import { resample } from '../../src/audio/resampler.js';
import { createPocketsphinxStt } from '../../src/stt/pocketsphinx/index.js';
import type { SttEvent } from '../../src/stt/stt.js';
import { createEspeakTts } from '../../src/tts/espeak/index.js';
import { createFliteTts } from '../../src/tts/flite/index.js';
import type { TtsProvider } from '../../src/tts/tts.js';

const SENTENCES = [
  'I would like to book an appointment',
  'can I come in on tuesday at ten',
  'yes please',
  'no thank you',
  'wednesday afternoon would be better',
  'my name is john smith',
  'what time do you open on friday',
  'could you repeat that please',
  'I need to cancel my appointment',
  'two thirty works for me',
  'thanks that is all goodbye',
  'is there anything available next monday morning',
];
const levels = (process.env.BENCH_LEVELS ?? '0,30,60,120,240').split(',').map(Number);
const never = new AbortController().signal;

const words = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z' ]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
function editDistance(a: string[], b: string[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] ?? 0;
}

async function synth(tts: TtsProvider, text: string): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  for await (const c of tts.synthesize(text, { sampleRate: 16000 }, never)) parts.push(c);
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function recognise(
  stt: Awaited<ReturnType<typeof createPocketsphinxStt>>,
  audio: Int16Array,
  rate: 8000 | 16000,
  grammar: readonly string[] | undefined,
): Promise<string> {
  const stream = stt.stream(
    { sampleRate: rate, language: 'en-US', ...(grammar ? { expectedPhrases: grammar } : {}) },
    never,
  );
  const frame = rate / 50;
  const pad = new Int16Array(rate / 2);
  const all = new Int16Array(pad.length * 2 + audio.length);
  all.set(audio, pad.length);
  for (let i = 0; i + frame <= all.length; i += frame) stream.push(all.subarray(i, i + frame));
  stream.flush();
  const it = stream[Symbol.asyncIterator]();
  const texts: string[] = [];
  const timeout = setTimeout(() => void stream.close(), 60_000);
  for (;;) {
    const { value, done } = (await it.next()) as IteratorResult<SttEvent>;
    if (done) break;
    if (value.type === 'final') {
      texts.push(value.text);
      break;
    }
    if (value.type === 'error') break;
  }
  clearTimeout(timeout);
  await stream.close();
  return texts.join(' ');
}

const voices: [string, TtsProvider][] = [
  ['flite', await createFliteTts()],
  ['espeak-ng', await createEspeakTts()],
];
console.log(
  `phone-band bench: ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}, ${new Date().toISOString()}`,
);
const rows: string[] = [];
for (const [voice, tts] of voices) {
  const clips = await Promise.all(SENTENCES.map((s) => synth(tts, s)));
  const phone = clips.map((c) => mulawDecode(mulawEncode(resample(c, 16000, 8000))));
  const settings: { name: string; rate: 8000 | 16000; rms: number }[] = [
    { name: '16 kHz', rate: 16000, rms: 0 },
    ...levels.map((rms) => ({ name: `8 kHz µ-law, fill ${rms}`, rate: 8000 as const, rms })),
  ];
  for (const setting of settings) {
    const stt = await createPocketsphinxStt({ phoneBandNoiseRms: setting.rms });
    for (const grammar of [undefined, SENTENCES]) {
      let errors = 0;
      let total = 0;
      for (let i = 0; i < SENTENCES.length; i++) {
        const audio = setting.rate === 16000 ? (clips[i] as Int16Array) : (phone[i] as Int16Array);
        const heard = await recognise(stt, audio, setting.rate, grammar);
        const ref = words(SENTENCES[i] as string);
        errors += editDistance(ref, words(heard));
        total += ref.length;
      }
      rows.push(
        `${voice.padEnd(10)} ${setting.name.padEnd(24)} ${(grammar ? 'grammar' : 'open').padEnd(8)} WER ${((100 * errors) / total).toFixed(1)} %`,
      );
      console.log(rows.at(-1));
    }
    await stt.close();
  }
}
process.exit(0);
