/**
 * Expected phrases -> a JSGF grammar plus a dictionary holding only its words.
 *
 * Phrases are lowercased and reduced to dictionary-style tokens ([a-z'] words); the grammar is
 * used only when every word is in the pronunciation dictionary, otherwise the caller falls back
 * to the open language model. The small dictionary makes a grammar decoder load in ~20 ms
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

/**
 * Decides how to decode given the expected phrases: a grammar when there are phrases and all
 * their words are in the dictionary, else the open model (`reason` says why).
 */
export function planDecoder(
  expectedPhrases: readonly string[] | undefined,
  dict: PronunciationDictionary,
): DecoderPlan {
  if (!expectedPhrases || expectedPhrases.length === 0) return { kind: 'open', key: 'open' };
  const phrases = [
    ...new Set(expectedPhrases.map((p) => phraseWords(p).join(' ')).filter((p) => p.length > 0)),
  ];
  if (phrases.length === 0) return { kind: 'open', key: 'open', reason: 'no words in the expected phrases' };
  phrases.sort();
  const words = new Set<string>();
  for (const phrase of phrases) for (const word of phrase.split(' ')) words.add(word);
  const dictLines: string[] = [];
  for (const word of [...words].sort()) {
    const lines = dict.get(word);
    if (lines === undefined)
      return { kind: 'open', key: 'open', reason: `'${word}' is not in the dictionary` };
    dictLines.push(lines);
  }
  const jsgf = `#JSGF V1.0;\ngrammar parley;\npublic <phrase> = ${phrases.join(' | ')};\n`;
  const key = `jsgf-${createHash('sha1').update(jsgf).digest('hex').slice(0, 16)}`;
  return { kind: 'grammar', key, phrases, jsgf, dict: `${dictLines.join('\n')}\n` };
}
