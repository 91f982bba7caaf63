/**
 * Caller audio for the offline dialog benchmark: synthesis by flite or espeak-ng (cached per
 * voice and text), the phone band (16 kHz → 8 kHz → G.711 µ-law → back to PCM16, as a phone
 * line carries it), and the word error rate with the normalisation both sides share.
 */
import { mulawDecode, mulawEncode } from '../../src/audio/g711.js';
import { resample } from '../../src/audio/resampler.js';
import { createEspeakTts } from '../../src/tts/espeak/index.js';
import { createFliteTts } from '../../src/tts/flite/index.js';
import type { TtsProvider } from '../../src/tts/tts.js';
import type { CallerVoice } from './corpus.js';

export type Band = 'pcm16k' | 'mulaw8k';
export const bandRate = (band: Band): 8000 | 16000 => (band === 'pcm16k' ? 16000 : 8000);

let engines: Promise<Record<CallerVoice['engine'], TtsProvider>> | undefined;
const cache = new Map<string, Promise<Int16Array>>();
const cache16k = new Map<string, Promise<Int16Array>>();
/** Synthesis processes at once (the corpus has a few thousand utterances). */
const SYNTH_AT_ONCE = 2;
let running = 0;
const queue: (() => void)[] = [];

async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= SYNTH_AT_ONCE) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    return await task();
  } finally {
    running--;
    queue.shift()?.();
  }
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The text spoken by `voice` at 16 kHz. */
export async function synthesize16k(voice: CallerVoice, text: string): Promise<Int16Array> {
  engines ??= Promise.all([createFliteTts(), createEspeakTts()]).then(([flite, espeak]) => ({
    flite,
    'espeak-ng': espeak,
  }));
  const tts = (await engines)[voice.engine];
  const parts: Int16Array[] = [];
  for await (const chunk of tts.synthesize(
    text,
    { sampleRate: 16000, voice: voice.voice, speed: voice.speed },
    new AbortController().signal,
  ))
    parts.push(chunk);
  return concat(parts);
}

/** The utterance as the server receives it in `band` (cached). */
export function callerAudio(voice: CallerVoice, text: string, band: Band): Promise<Int16Array> {
  const key = `${voice.id}\u0000${band}\u0000${text}`;
  let audio = cache.get(key);
  if (!audio) {
    const key16k = `${voice.id}\u0000${text}`;
    let pcm16k = cache16k.get(key16k);
    if (!pcm16k) {
      pcm16k = limited(() => synthesize16k(voice, text));
      cache16k.set(key16k, pcm16k);
    }
    audio = pcm16k.then((pcm) =>
      band === 'pcm16k' ? pcm : mulawDecode(mulawEncode(resample(pcm, 16000, 8000))),
    );
    cache.set(key, audio);
  }
  return audio;
}

const NUMBERS: Record<string, string> = {
  '1': 'one',
  '2': 'two',
  '3': 'three',
  '4': 'four',
  '5': 'five',
  '6': 'six',
  '7': 'seven',
  '8': 'eight',
  '9': 'nine',
  '10': 'ten',
  '11': 'eleven',
  '12': 'twelve',
  '30': 'thirty',
};

/** Lower case words, digits spelt out, "o'clock"/"o clock" as one word, punctuation dropped. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/\b(\d{1,2})\b/g, (d) => NUMBERS[d] ?? d)
    .replace(/\ba\.m\.|\bam\b/g, 'a m')
    .replace(/\bp\.m\.|\bpm\b/g, 'p m')
    .replace(/\bo'? ?clock\b/g, 'oclock')
    .replace(/'/g, '')
    .replace(/[^a-z ]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Word-level edit distance (substitutions, insertions, deletions). */
export function editDistance(ref: readonly string[], hyp: readonly string[]): number {
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++)
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (ref[i - 1] === hyp[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[hyp.length] ?? 0;
}
