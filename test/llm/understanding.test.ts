import { describe, expect, it } from 'vitest';
import type { Slot } from '../../src/llm/scripted/dialog-schema.js';
import { extractSlots, slotPhrases, timePhrases } from '../../src/llm/scripted/slots.js';
import {
  formatClock,
  globalIntent,
  likelyTime,
  normalize,
  timeMentions,
  words,
  yesNo,
} from '../../src/llm/scripted/understanding.js';

const clock = (text: string) => timeMentions(words(text)).map((m) => formatClock(likelyTime(m.value)));

describe('understanding replies', () => {
  it('normalises case, punctuation, hyphens and spacing', () => {
    expect(normalize('  Good-bye!  ')).toBe('good bye');
    expect(normalize("Ten O'Clock, please.")).toBe("ten o'clock please");
    expect(normalize('10am')).toBe('10 am');
    expect(normalize('2:30 P.M.')).toBe('2 30 pm');
    expect(normalize('‘yes’')).toBe('yes');
  });

  it('reads clock times as words and digits', () => {
    const cases: [string, string][] = [
      ['10', '10:00'],
      ['ten', '10:00'],
      ['10 am', '10:00'],
      ['10am', '10:00'],
      ["ten o'clock", '10:00'],
      ['ten o clock', '10:00'],
      ['half past two', '14:30'],
      ['two thirty', '14:30'],
      ['2:30', '14:30'],
      ['quarter past nine', '09:15'],
      ['quarter to three', '14:45'],
      ['two oh five', '14:05'],
      ['noon', '12:00'],
      ['14:00', '14:00'],
      ['seven in the evening', '19:00'],
      ['9 pm', '21:00'],
      ['four p m', '16:00'],
    ];
    for (const [text, want] of cases) expect(clock(text), text).toEqual([want]);
  });

  it('marks times said as times, so counts are not taken for them', () => {
    const [at] = timeMentions(words('at ten'));
    const [bare] = timeMentions(words('ten'));
    expect(at?.marked).toBe(true);
    expect(bare?.marked).toBe(false);
    expect(timeMentions(words('14:00'))[0]?.marked).toBe(true);
    expect(timeMentions(words('twenty'))[0]?.marked).toBe(false);
    expect(timeMentions(words('not at ten'))[0]?.negated).toBe(true);
  });

  it('hears yes and no in their many forms, whichever comes first', () => {
    for (const y of [
      'yes',
      'Yeah.',
      'yep',
      'sure',
      "that's right",
      'of course',
      'okay',
      'uh-huh',
      'sure, why not',
    ])
      expect(yesNo(words(y)), y).toBe('yes');
    for (const n of [
      'no',
      'nope',
      'nah',
      "I don't think so",
      'no, Wednesday',
      'not really',
      "that's not right",
    ])
      expect(yesNo(words(n)), n).toBe('no');
    expect(yesNo(words('wednesday'))).toBeUndefined();
  });

  it('finds dialog-wide intents: goodbye anywhere, help and repeat as the whole reply', () => {
    const cases: [string, string | undefined][] = [
      ['good bye', 'goodbye'],
      ['Bye-bye!', 'goodbye'],
      ["no thanks, that's all", 'goodbye'],
      ['can you repeat that please', 'repeat'],
      ['sorry?', 'repeat'],
      ['um, help', 'help'],
      ['what are my options', 'help'],
      ['can you help me book on tuesday', undefined],
      ['let me speak to a real person', 'operator'],
      ["let's start over", 'startOver'],
      ['tuesday', undefined],
    ];
    for (const [text, want] of cases) expect(globalIntent(words(text)), text).toBe(want);
  });
});

describe('slots', () => {
  const slots: Record<string, Slot> = {
    people: {
      type: 'number',
      prompt: 'How many?',
      min: 1,
      max: 12,
      prefixes: ['for', 'party of'],
      suffixes: ['people', 'of us'],
    },
    time: { type: 'time', prompt: 'When?' },
    day: { type: 'choice', prompt: 'Day?', choices: { friday: ['fri'], saturday: [] }, others: ['sunday'] },
  };
  const all = Object.keys(slots);
  const get = (text: string, asked?: string) => extractSlots(slots, all, words(text), asked);

  it('several at once, counts and times told apart by their markers', () => {
    expect(get('a table for four at seven thirty on friday').values).toEqual({
      people: '4',
      time: '19:30',
      day: 'friday',
    });
    expect(get('six people at 8pm').values).toEqual({ people: '6', time: '20:00' });
    expect(get('at seven for two').values).toEqual({ people: '2', time: '19:00' });
  });

  it('a bare number fills the slot being asked only', () => {
    expect(get('four').values).toEqual({});
    expect(get('four', 'people').values).toEqual({ people: '4' });
    expect(get('four', 'time').values).toEqual({ time: '16:00' });
  });

  it('the last mention wins, negated ones do not count, others and out-of-range values are refused', () => {
    expect(get('friday, no, saturday').values.day).toBe('saturday');
    expect(get('not friday').values.day).toBeUndefined();
    expect(get('sunday').invalid).toEqual(['day']);
    expect(get('for twenty people').invalid).toEqual(['people']);
  });

  it('phrases for the grammar: affixes, and times said several ways', () => {
    expect(timePhrases(14 * 60 + 30)).toEqual(['two thirty', 'two thirty p m', 'half past two']);
    const people = slotPhrases(slots.people as Slot) ?? [];
    expect(people).toContain('for four');
    expect(people).toContain('party of four people');
    expect(slotPhrases({ type: 'pattern', prompt: 'Code?', pattern: '\\d+' })).toBeUndefined();
  });
});
