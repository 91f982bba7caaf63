// pocketsphinx_continuous output: an empty grammar hypothesis never becomes a transcript.
import { describe, expect, it } from 'vitest';
import { type DecodedUtterance, PocketsphinxOutputParser } from '../../src/stt/pocketsphinx/output-parser.js';

const parse = (chunks: string[]): DecodedUtterance[] => {
  const out: DecodedUtterance[] = [];
  const parser = new PocketsphinxOutputParser((u) => out.push(u));
  for (const c of chunks) parser.push(c);
  parser.end();
  return out;
};

describe('PocketsphinxOutputParser', () => {
  it('reads a hypothesis and its word times', () => {
    const [u] = parse([
      'book tuesday\n<s> 0.100 0.200 1.000000\nbook 0.210 0.500 0.900000\ntuesday 0.510 0.900 0.800000\n',
    ]);
    expect(u?.text).toBe('book tuesday');
    expect(u?.words.map((w) => w.word)).toEqual(['book', 'tuesday']);
  });

  it('never turns an empty hypothesis (NULL) into text, alone, after a hypothesis or split across chunks', () => {
    expect(parse(['(NULL) -0.010 -0.010 1.000000\n'])).toEqual([]);
    expect(parse(['(NULL) -0.010 -0.010 1.000000'])).toEqual([]);
    expect(parse(['(NULL) -0.0', '10 -0.010 1.000000\n'])).toEqual([]);
    expect(parse(['(NULL)\n'])).toEqual([]);
    expect(parse(['yes\nyes 0.1 0.3 0.9\n(NULL) -0.010 -0.010 1.000000\n']).map((u) => u.text)).toEqual([
      'yes',
    ]);
  });
});
