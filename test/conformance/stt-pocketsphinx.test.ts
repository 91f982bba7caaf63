/**
 * PocketSphinx against the STT conformance suite, with real speech synthesised by flite (both
 * installed by scripts/install-system-deps.sh), decoded with a grammar of expected phrases; the
 * match is tolerant all the same (half the words).
 * No fault cases: a local decoder cannot be rate-limited or disconnected (its crash is covered
 * in test/speech/speech.test.ts).
 */
import { createPocketsphinxStt } from '../../src/stt/pocketsphinx/index.js';
import type { SttOptions } from '../../src/stt/stt.js';
import { createFliteTts } from '../../src/tts/flite/index.js';
import { describeSttConformance, normaliseTranscript } from './stt-conformance.js';

const PHRASE = 'book an appointment for tuesday';

describeSttConformance('pocketsphinx', async () => {
  const [stt, flite] = await Promise.all([createPocketsphinxStt(), createFliteTts()]);
  const cache = new Map<number, Int16Array>();
  async function speech(rate: SttOptions['sampleRate']): Promise<Int16Array> {
    const cached = cache.get(rate);
    if (cached) return cached;
    const parts: Int16Array[] = [];
    for await (const chunk of flite.synthesize(PHRASE, { sampleRate: rate }, new AbortController().signal))
      parts.push(chunk);
    const audio = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      audio.set(p, at);
      at += p.length;
    }
    cache.set(rate, audio);
    return audio;
  }
  return {
    provider: stt,
    sampleRates: [16000, 8000],
    streamsPartials: false,
    // The engine passes the replies the dialog expects; pocketsphinx then decodes with a grammar
    // (the open model mishears flite's voice too often for a stable test).
    options: { expectedPhrases: [PHRASE, 'cancel my appointment', 'talk to a human', 'yes', 'no'] },
    utterance: async (rate) => ({
      audio: await speech(rate),
      text: PHRASE,
      matches: (actual) => {
        const got = new Set(normaliseTranscript(actual).split(' '));
        const want = PHRASE.split(' ');
        return want.filter((w) => got.has(w)).length >= want.length / 2;
      },
    }),
    // Decoding is real work on a shared CPU: 30 s of speech exercises the same path.
    overLong: { ms: 30_000, outcome: 'finals' },
    close: () => stt.close(),
  };
});
