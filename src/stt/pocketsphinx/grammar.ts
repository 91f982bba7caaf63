/**
 * Expected phrases -> a JSGF grammar plus a dictionary holding only its words.
 *
 * Phrases are lowercased and reduced to dictionary-style tokens ([a-z'] words); the grammar is
 * used only when every word is in the pronunciation dictionary, otherwise the caller falls back
 * to the open language model. The grammar wraps the phrases the way callers say them (fillers,
 * carrier phrases, politeness, several answers in one reply) and has an out-of-grammar word
 * loop so noise and off-topic speech are not forced onto an expected phrase. The small dictionary makes a grammar decoder load in ~20 ms
 * instead of ~0.2 s with the full 135k-word CMUdict.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** word -> its dictionary lines (the word and its alternates `word(2)` …), newline-joined. */
export type PronunciationDictionary = ReadonlyMap<string, string>;

/** Loads a CMUdict-format file (`word PH ON ES`, alternates as `word(2)`). */
export async function loadDictionary(path: string): Promise<PronunciationDictionary> {
  const text = await readFile(path, 'utf8');
  const dict = new Map<string, string>();
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    let word = line.slice(0, space);
    const paren = word.indexOf('(');
    if (paren > 0) word = word.slice(0, paren);
    const prev = dict.get(word);
    dict.set(word, prev === undefined ? line : `${prev}\n${line}`);
  }
  return dict;
}

/** Lowercases and splits a phrase into dictionary-style words. */
export function phraseWords(phrase: string): string[] {
  return phrase
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[^a-z0-9'\s]+/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
}

export type DecoderPlan =
  | { kind: 'open'; key: 'open'; reason?: string }
  | { kind: 'grammar'; key: string; phrases: readonly string[]; jsgf: string; dict: string };

/** Sounds people make around an answer. */
// biome-ignore format: a word list reads best packed
export const GRAMMAR_FILLERS = ['um', 'uh', 'er', 'hmm', 'oh', 'well', 'so', 'okay'];
/** How people lead into an answer ("I'd like Tuesday", "could you make it ten"). */
// biome-ignore format: a word list reads best packed
export const GRAMMAR_CARRIERS = [
  "i'd like", "i'd like to", 'i would like', 'i would like to', 'i want', 'i want to', 'i need', 'can i',
  'can i have', 'could i', 'could i have', 'could you', 'can you', 'can we', 'could we', 'may i',
  "let's say", "let's do", 'how about', 'what about', 'make it', 'maybe', 'actually', 'i think', 'i guess',
  'just', 'and', 'and also', "i'll take", 'i will take', "it's", 'it is',
];
/** How people end one. */
// biome-ignore format: a word list reads best packed
export const GRAMMAR_POLITENESS = ['please'];
/**
 * Out-of-grammar speech: a loop of common short words of varied sounds, weighted well below the
 * answers, so a cough or an off-topic sentence comes out as these words (which the dialog does not
 * understand and re-prompts for) instead of being forced onto the nearest expected phrase.
 * Words that are also in the expected phrases are left out of it.
 */
// biome-ignore format: a word list reads best packed
export const GRAMMAR_GARBAGE = [
  'the', 'of', 'in', 'is', 'was', 'he', 'she', 'they', 'his', 'her', 'with', 'from', 'by', 'as', 'be',
  'have', 'had', 'did', 'get', 'got', 'go', 'see', 'said', 'know', 'take', 'come', 'look', 'give', 'use',
  'find', 'tell', 'work', 'feel', 'leave', 'car', 'dog', 'cat', 'house', 'water', 'weather', 'money', 'food',
  'lunch', 'music', 'road', 'big', 'small', 'red', 'green', 'blue', 'long', 'much', 'both', 'each', 'which',
  'where', 'who', 'how', 'why', 'when', 'then', 'than', 'them', 'these', 'those', 'some', 'such', 'only',
  'over', 'under', 'after', 'before', 'between', 'people', 'world', 'life', 'hand', 'part', 'child', 'eye',
  'woman', 'man', 'place', 'week', 'case', 'point', 'number', 'group', 'problem', 'fact', 'shoe', 'judge',
  'bridge', 'thing',
];

/** Measured with synthesised callers (README, offline dialog): see GrammarOptions.garbageWeight. */
export const DEFAULT_GARBAGE_WEIGHT = 0;

export interface GrammarOptions {
  /** Expected phrases allowed in a row ("Tuesday" + "at ten"). Default 2. */
  maxPhrases?: number;
  /** Weight of each out-of-grammar word, against 1 for an expected one (0 turns the loop off). */
  garbageWeight?: number;
}

function jsgfAlternatives(list: readonly string[]): string {
  return list.join(' | ');
}

/**
 * Decides how to decode given the expected phrases: a grammar when there are phrases and all
 * their words are in the dictionary, else the open model (`reason` says why).
 *
 * The grammar accepts what callers wrap an answer in: `[filler] [carrier] phrase`, up to
 * `maxPhrases` of them in a row ("yes, Tuesday at ten" is three expected phrases), then
 * `[politeness]`; plus a weighted out-of-grammar word loop. Wrapping words missing from the
 * dictionary are dropped; the expected phrases' words must all be there.
 */
export function planDecoder(
  expectedPhrases: readonly string[] | undefined,
  dict: PronunciationDictionary,
  options: GrammarOptions = {},
): DecoderPlan {
  if (!expectedPhrases || expectedPhrases.length === 0) return { kind: 'open', key: 'open' };
  const phrases = [
    ...new Set(expectedPhrases.map((p) => phraseWords(p).join(' ')).filter((p) => p.length > 0)),
  ];
  if (phrases.length === 0) return { kind: 'open', key: 'open', reason: 'no words in the expected phrases' };
  phrases.sort();
  const words = new Set<string>();
  for (const phrase of phrases) for (const word of phrase.split(' ')) words.add(word);
  for (const word of words) {
    if (!dict.has(word)) return { kind: 'open', key: 'open', reason: `'${word}' is not in the dictionary` };
  }
  const known = (list: readonly string[]) =>
    list.filter((p) => p.split(' ').every((w) => dict.has(w)) && !phrases.includes(p));
  const fillers = known(GRAMMAR_FILLERS);
  const carriers = known(GRAMMAR_CARRIERS);
  const polite = known(GRAMMAR_POLITENESS);
  const garbage = GRAMMAR_GARBAGE.filter((w) => dict.has(w) && !words.has(w));
  const maxPhrases = Math.max(1, options.maxPhrases ?? 2);
  const garbageWeight = options.garbageWeight ?? DEFAULT_GARBAGE_WEIGHT;

  const lines = ['#JSGF V1.0;', 'grammar parley;', `<phrase> = ${jsgfAlternatives(phrases)};`];
  let part = '<phrase>';
  if (fillers.length > 0) {
    lines.push(`<filler> = ${jsgfAlternatives(fillers)};`);
    part = `[<filler>] ${part}`;
  }
  if (carriers.length > 0) {
    lines.push(`<carrier> = ${jsgfAlternatives(carriers)};`);
    part = part.replace('<phrase>', '[<carrier>] <phrase>');
  }
  if (polite.length > 0) {
    // Inside a part, not as a trailing optional rule of the utterance: that one left 8 kHz
    // decodes with an empty hypothesis (pocketsphinx 5prealpha).
    lines.push(`<polite> = ${jsgfAlternatives(polite)};`);
    part += ' [<polite>]';
  }
  lines.push(`<part> = ${part};`);
  lines.push(`<answer> = <part>${' [<part>]'.repeat(maxPhrases - 1)};`);
  if (garbageWeight > 0 && garbage.length > 0) {
    // Weights on the words themselves: pocketsphinx ignores them on a rule reference.
    lines.push(`<garbage> = ${jsgfAlternatives(garbage.map((w) => `/${garbageWeight}/ ${w}`))};`);
    lines.push('public <utterance> = <answer> | <garbage>+;');
  } else {
    lines.push('public <utterance> = <answer>;');
  }
  const jsgf = `${lines.join('\n')}\n`;
  for (const w of [...fillers, ...carriers, ...polite, ...garbage].flatMap((p) => p.split(' '))) words.add(w);
  const dictLines = [...words].sort().map((w) => dict.get(w) ?? '');
  const key = `jsgf-${createHash('sha1').update(jsgf).digest('hex').slice(0, 16)}`;
  return { kind: 'grammar', key, phrases, jsgf, dict: `${dictLines.join('\n')}\n` };
}
