import { describe, expect, it } from 'vitest';
import { demoDialog } from '../../src/engine/demo-assistant.js';
import { expectedPhrases, initialState } from '../../src/llm/scripted/dialog.js';
import { GRAMMAR_GARBAGE, planDecoder } from '../../src/stt/pocketsphinx/grammar.js';

/** A dictionary that knows every word except those listed. */
function dictionary(unknown: readonly string[] = []): ReadonlyMap<string, string> {
  return new Proxy(new Map<string, string>(), {
    get(target, prop) {
      if (prop === 'has') return (w: string) => !unknown.includes(w);
      if (prop === 'get') return (w: string) => (unknown.includes(w) ? undefined : `${w} AH`);
      return Reflect.get(target, prop);
    },
  });
}

describe('grammar from expected phrases', () => {
  it('wraps the phrases in fillers, carriers and politeness, two in a row, with an optional garbage loop', () => {
    const plan = planDecoder(['yes', 'tuesday', 'at ten'], dictionary(), { garbageWeight: 0.0001 });
    expect(plan.kind).toBe('grammar');
    if (plan.kind !== 'grammar') return;
    const lines = plan.jsgf.split('\n');
    expect(lines).toContain('<phrase> = at ten | tuesday | yes;');
    expect(lines.find((l) => l.startsWith('<filler> ='))).toMatch(/\bum\b.*\buh\b/);
    expect(lines.find((l) => l.startsWith('<carrier> ='))).toContain("i'd like");
    expect(lines.find((l) => l.startsWith('<polite> ='))).toBe('<polite> = please;');
    expect(lines).toContain('<part> = [<filler>] [<carrier>] <phrase> [<polite>];');
    expect(lines).toContain('<answer> = <part> [<part>];');
    expect(lines).toContain('public <utterance> = <answer> | <garbage>+;');
    expect(lines.find((l) => l.startsWith('<garbage> ='))).toMatch(/^<garbage> = \/0\.0001\/ the \| /);
    // Every word of the grammar has a pronunciation in its dictionary.
    const dictWords = new Set(
      plan.dict
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    );
    const grammarWords = plan.jsgf
      .split('\n')
      .filter((l) => l.includes(' = '))
      .flatMap((l) => (l.split(' = ')[1] ?? '').replace(/\/[\d.]+\/|<\w+>|[[\]|;+]/g, ' ').split(/\s+/))
      .filter((w) => w.length > 0);
    for (const w of grammarWords) expect(dictWords.has(w), w).toBe(true);
  });

  it('leaves words the phrases use out of the garbage loop, and wrapping words the dictionary lacks', () => {
    const plan = planDecoder(['the red one', 'blue'], dictionary(['hmm', 'gotcha']), {
      garbageWeight: 0.001,
    });
    if (plan.kind !== 'grammar') throw new Error('expected a grammar');
    const garbage = plan.jsgf.split('\n').find((l) => l.startsWith('<garbage> =')) ?? '';
    expect(garbage).not.toMatch(/ (the|red|blue)\b/);
    expect(garbage).toContain(' green');
    expect(plan.jsgf).not.toMatch(/\bhmm\b/);
  });

  it('falls back to the open model when a phrase word is unknown; options turn parts off', () => {
    expect(planDecoder(['see you at 3pm'], dictionary(['3pm']))).toMatchObject({
      kind: 'open',
      reason: "'3pm' is not in the dictionary",
    });
    expect(
      planDecoder(['yes'], dictionary()).kind === 'grammar' && planDecoder(['yes'], dictionary()),
    ).not.toMatchObject({
      jsgf: expect.stringContaining('<garbage>'),
    });
    const plain = planDecoder(['yes', 'no'], dictionary(), { maxPhrases: 1, garbageWeight: 0 });
    if (plain.kind !== 'grammar') throw new Error('expected a grammar');
    expect(plain.jsgf).toContain('<answer> = <part>;');
    expect(plain.jsgf).toContain('public <utterance> = <answer>;');
    expect(plain.jsgf).not.toContain('<garbage>');
    // Same phrases → same grammar file (decoders are cached by key).
    expect(planDecoder(['no', 'yes'], dictionary(), { maxPhrases: 1, garbageWeight: 0 }).key).toBe(plain.key);
  });

  it("the demo dialog's phrases are all in CMUdict-style words and small enough to decode fast", () => {
    const phrases = expectedPhrases(demoDialog, initialState(demoDialog)) ?? [];
    expect(phrases.length).toBeGreaterThan(100);
    expect(phrases.length).toBeLessThan(600);
    for (const p of phrases) expect(p, p).toMatch(/^[a-z']+( [a-z']+)*$/);
    expect(GRAMMAR_GARBAGE.filter((w) => phrases.includes(w))).toEqual([]);
  });
});
