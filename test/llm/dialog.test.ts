import { describe, expect, it } from 'vitest';
import { demoDialog } from '../../src/engine/demo-assistant.js';
import { type Dialog, expectedPhrases, initialState, validateDialog } from '../../src/llm/scripted/dialog.js';
import { talk, toolOf } from './dialog-support.js';

const CONFIRM = /^So that is (\w+) at (\w+) o clock\. Shall I book it\?$/;
const GOODBYE = 'Thank you for calling. Goodbye!';

describe('demo dialog: natural phrasings book the right slots', () => {
  const cases: [string[], { day: string; time: string }][] = [
    [['yes please', 'wednesday', 'eleven', 'yes'], { day: 'wednesday', time: 'eleven' }],
    [['Tuesday at ten', 'yes'], { day: 'tuesday', time: 'ten' }],
    [
      ["Yeah, I'd like to book an appointment for Thursday at 2 pm.", 'yep'],
      { day: 'thursday', time: 'two' },
    ],
    [['um yes', 'uh, friday please', "ten o'clock", "that's right"], { day: 'friday', time: 'ten' }],
    [['sure', 'Monday', '9', 'correct'], { day: 'monday', time: 'nine' }],
    [['I want to book an appointment', 'on tuesday at 3', 'sounds good'], { day: 'tuesday', time: 'three' }],
    [['Could I come on Friday at 10am please?', 'yes please'], { day: 'friday', time: 'ten' }],
    [['Tuesday ten', 'okay'], { day: 'tuesday', time: 'ten' }],
    [['yes', 'two o clock in the afternoon on thursday', 'absolutely'], { day: 'thursday', time: 'two' }],
    [['yes', 'next monday', 'at 11 a.m.', 'of course'], { day: 'monday', time: 'eleven' }],
    [['OK.', 'Wednesday.', 'Four P.M.', 'Yes.'], { day: 'wednesday', time: 'four' }],
    [['yes', 'eleven', 'friday', 'yes'], { day: 'friday', time: 'eleven' }],
  ];
  for (const [replies, slots] of cases) {
    it(JSON.stringify(replies), () => {
      const { turns } = talk(demoDialog, replies);
      expect(toolOf(turns)).toEqual({ name: 'bookAppointment', arguments: slots });
      expect(turns.at(-1)?.said).toBe(
        `You are booked for ${slots.day} at ${slots.time} o clock. Thank you for calling. Goodbye!`,
      );
      expect(turns.at(-1)?.end).toBe(true);
    });
  }

  it('mixed initiative: a day and a time at the yes/no question go straight to the confirmation', () => {
    const { turns } = talk(demoDialog, ['Tuesday at ten']);
    expect(turns[0]?.said).toBe('So that is tuesday at ten o clock. Shall I book it?');
    const onlyDay = talk(demoDialog, ['on friday please']);
    expect(onlyDay.turns[0]?.said).toBe(
      'What time on friday? We have nine, ten, eleven, two, three or four o clock.',
    );
    const onlyTime = talk(demoDialog, ['yes, at three']);
    expect(onlyTime.turns[0]?.said).toBe('Which day suits you? We are open Monday to Friday.');
  });

  it('corrections: "no, Wednesday" at the confirmation, a plain no, and a change of mind mid-reply', () => {
    const a = talk(demoDialog, ['yes', 'Thursday at 11 am', 'no, Wednesday', 'yes']);
    expect(a.turns[2]?.said).toMatch(CONFIRM);
    expect(a.turns[2]?.said).toContain('wednesday at eleven');
    expect(toolOf(a.turns)?.arguments).toEqual({ day: 'wednesday', time: 'eleven' });

    const b = talk(demoDialog, ['yes', 'friday', 'four', 'no', 'Monday at nine', 'yes']);
    expect(b.turns[3]?.said).toBe('Sorry about that. Which day and time would you like instead?');
    expect(toolOf(b.turns)?.arguments).toEqual({ day: 'monday', time: 'nine' });

    const c = talk(demoDialog, ['yes', 'Tuesday, no, Wednesday', '2', 'yes']);
    expect(toolOf(c.turns)?.arguments).toEqual({ day: 'wednesday', time: 'two' });

    const d = talk(demoDialog, ['yes', 'not monday, tuesday', 'at four', 'yes']);
    expect(toolOf(d.turns)?.arguments).toEqual({ day: 'tuesday', time: 'four' });

    const e = talk(demoDialog, ['tuesday at ten', 'actually make it eleven', 'yes']);
    expect(e.turns[1]?.said).toContain('tuesday at eleven');
    expect(toolOf(e.turns)?.arguments).toEqual({ day: 'tuesday', time: 'eleven' });
  });

  it('declines in many forms', () => {
    for (const no of ['no thanks', 'nope', "no, I don't think so", 'No.', 'not really']) {
      const { turns } = talk(demoDialog, [no]);
      expect(turns[0], no).toEqual({ said: 'No problem. Have a nice day. Goodbye!', end: true });
    }
  });

  it('values heard but not offered are refused with the reason', () => {
    expect(talk(demoDialog, ['yes', 'saturday']).turns[1]?.said).toBe(
      'Sorry, we are open Monday to Friday. Which day would you like?',
    );
    for (const time of ['five', 'half past two', 'at 7 pm']) {
      expect(talk(demoDialog, ['yes', 'monday', time]).turns[2]?.said, time).toBe(
        'Sorry, we have nine, ten, eleven, two, three or four o clock. Which time?',
      );
    }
  });
});

describe('dialog-wide intents in every state', () => {
  const states: [string, string[]][] = [
    ['opening question', []],
    ['day question', ['yes']],
    ['time question', ['yes', 'monday']],
    ['confirmation', ['yes', 'monday', 'ten']],
    ['correction', ['yes', 'monday', 'ten', 'no']],
  ];
  for (const [where, before] of states) {
    it(`goodbye at the ${where} ends the call without booking`, () => {
      for (const bye of [
        'good bye',
        'Goodbye.',
        'bye-bye',
        "thanks, that's all",
        'OK bye',
        "no that's all for now thank you",
      ]) {
        const { turns } = talk(demoDialog, [...before, bye]);
        expect(turns.at(-1), bye).toEqual({ said: GOODBYE, end: true });
        expect(toolOf(turns)).toBeUndefined();
      }
    });
    it(`help, repeat and operator at the ${where} keep the dialog where it was`, () => {
      const asked = talk(demoDialog, before).turns.at(-1)?.said ?? 'Would you like to book an appointment?';
      const repeat = talk(demoDialog, [...before, 'can you repeat that please']).turns.at(-1);
      expect(repeat?.said).toBe(asked);
      const help = talk(demoDialog, [...before, 'help']).turns.at(-1)?.said ?? '';
      expect(help.endsWith(asked)).toBe(true);
      expect(help.length).toBeGreaterThan(asked.length);
      const operator = talk(demoDialog, [...before, 'I want to speak to a real person']).turns.at(-1)?.said;
      expect(operator).toBe(
        `Sorry, no one else can take your call right now. I can book an appointment for you. ${asked}`,
      );
      // …and the dialog goes on from there.
      const after = talk(demoDialog, [...before, 'pardon', 'goodbye']).turns.at(-1);
      expect(after?.end).toBe(true);
    });
  }

  it('a goodbye mixed with other words is not one (a misheard "how about", "yep")', () => {
    expect(talk(demoDialog, ['tuesday at ten', 'eight goodbye']).turns[1]?.end).toBe(false);
    const { turns } = talk(demoDialog, ['yes', "goodbye it's wednesday"]);
    expect(turns[1]).toEqual({
      said: 'What time on wednesday? We have nine, ten, eleven, two, three or four o clock.',
      end: false,
    });
  });

  it('start over forgets the slots and goes back to the start', () => {
    const { turns } = talk(demoDialog, ['tuesday at ten', "let's start over", 'yes']);
    expect(turns[1]?.said).toBe("Okay, let's start over. Would you like to book an appointment?");
    expect(turns[2]?.said).toBe('Which day suits you? We are open Monday to Friday.');
  });
});

describe('not understood: re-prompts that change and escalate, then a graceful end', () => {
  it('demo: three different lines, then goodbye', () => {
    const { turns } = talk(demoDialog, ['yes', 'purple', 'the cat sat', 'blue', 'monday']);
    const [, first, second, third] = turns;
    expect(first?.said).toBe(
      'Sorry, which day would you like? Monday, Tuesday, Wednesday, Thursday or Friday?',
    );
    expect(second?.said).toBe('Please say just the day, for example Tuesday.');
    expect(third).toEqual({
      said: 'Sorry, I am having trouble understanding. Please call again later. Goodbye!',
      end: true,
    });
    expect(turns).toHaveLength(4);
  });

  it('a success resets the count', () => {
    const { turns } = talk(demoDialog, ['purple', 'yes', 'green', 'monday', 'red', 'ten', 'yes']);
    expect(toolOf(turns)?.arguments).toEqual({ day: 'monday', time: 'ten' });
  });

  it('defaults for a dialog without its own re-prompts', () => {
    const dialog: Dialog = {
      start: 'q',
      nodes: {
        q: { say: 'Red or blue?', expect: [{ keywords: ['red', 'blue'], next: 'done' }] },
        done: { say: 'Ok.', end: true },
      },
    };
    const { turns } = talk(dialog, ['green', 'green', 'green']);
    expect(turns[0]?.said).toBe("Sorry, I didn't catch that. Red or blue?");
    expect(turns[1]?.said).toBe(
      "Sorry, I still didn't understand. Please answer in a few words. Red or blue?",
    );
    expect(turns[2]?.end).toBe(true);
  });
});

describe('expected phrases (for the grammar)', () => {
  it('cover yes/no, the slots in play, and the dialog-wide intents', () => {
    const start = initialState(demoDialog);
    const offer = expectedPhrases(demoDialog, start) ?? [];
    for (const p of [
      'yes please',
      'no thanks',
      'tuesday',
      'on tuesday',
      'at ten o clock',
      'two p m',
      'goodbye',
      'help',
    ])
      expect(offer, p).toContain(p);
    const { llm, chat } = talk(demoDialog, ['yes', 'monday', 'ten']);
    const confirm = llm.expectedPhrases(chat) ?? [];
    expect(confirm).toContain('no');
    expect(confirm).toContain('wednesday');
    expect(confirm.every((p) => /^[a-z' ]+$/.test(p))).toBe(true);
  });
});

describe('validation names the field', () => {
  const base = (patch: Record<string, unknown>) => ({
    start: 'a',
    slots: { day: { type: 'choice', prompt: 'Day?', choices: { monday: [] } } },
    nodes: { a: { collect: { slots: ['day'], next: 'b' } }, b: { say: 'Bye', end: true } },
    ...patch,
  });
  it('accepts the demo and a good dialog', () => {
    expect(validateDialog(demoDialog)).toBeUndefined();
    expect(validateDialog(base({}))).toBeUndefined();
  });
  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'unknown slot in collect',
      { nodes: { a: { collect: { slots: ['dy'], next: 'a' } } } },
      'dialog.nodes.a.collect.slots.0',
      /slot "dy"/,
    ],
    [
      'unknown slot in fills',
      { nodes: { a: { expect: [{ fills: ['x'], next: 'a' }] } } },
      'dialog.nodes.a.expect.0.fills.0',
      /slot "x"/,
    ],
    [
      'two matchers',
      { nodes: { a: { expect: [{ intent: 'yes', keywords: ['y'], next: 'a' }] } } },
      'dialog.nodes.a.expect.0',
      /one of/,
    ],
    [
      'choice without choices',
      { slots: { day: { type: 'choice', prompt: 'Day?' } } },
      'dialog.slots.day.choices',
      /needs choices/,
    ],
    [
      'bad clock',
      { slots: { day: { type: 'time', prompt: 'When?', times: { late: '25:00' } } } },
      'dialog.slots.day.times.late',
      /clock time/,
    ],
    ['bad slot type', { slots: { day: { type: 'date', prompt: 'Day?' } } }, 'dialog.slots.day.type', /./],
    ['bad intent target', { intents: { goodbye: { next: 'zz' } } }, 'dialog.intents.goodbye.next', /"zz"/],
    ['bad noMatch target', { noMatch: { next: 'zz' } }, 'dialog.noMatch.next', /"zz"/],
    [
      'min above max',
      { slots: { day: { type: 'number', prompt: 'How many?', min: 5, max: 2 } } },
      'dialog.slots.day.min',
      /min/,
    ],
    [
      'pattern slot without pattern',
      { slots: { day: { type: 'pattern', prompt: 'Code?' } } },
      'dialog.slots.day.pattern',
      /pattern/,
    ],
    [
      'two roles',
      { nodes: { a: { collect: { slots: ['day'], next: 'a' }, end: true } } },
      'dialog.nodes.a',
      /only one of/,
    ],
  ];
  for (const [what, patch, field, message] of bad) {
    it(what, () => {
      const error = validateDialog(base(patch));
      expect(error?.field).toBe(field);
      expect(error?.message).toMatch(message);
    });
  }
});

describe('the README example (a restaurant reservation) is valid and works', async () => {
  const { readFile } = await import('node:fs/promises');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Offline dialogs'));
  const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1] ?? '';
  const dialog = JSON.parse(json) as Dialog;

  it('validates', () => {
    expect(validateDialog(dialog)).toBeUndefined();
  });

  it('books from one sentence, takes a correction, refuses a closed day', () => {
    const a = talk(dialog, ['Hi, a table for four on Friday at half past seven please', 'yes']);
    expect(a.turns[0]?.said).toBe('A table for 4 on friday at 19:30. Is that right?');
    expect(toolOf(a.turns)).toEqual({
      name: 'reserveTable',
      arguments: { people: '4', day: 'friday', time: '19:30' },
    });
    const b = talk(dialog, [
      'yes',
      'six of us',
      'monday',
      'this saturday',
      'eight',
      'no, make it eight thirty',
      'correct',
    ]);
    expect(b.turns[1]?.said).toBe('A table for 6. Which day?');
    expect(b.turns[2]?.said).toBe('Sorry, we are open Thursday to Saturday. Which day?');
    expect(toolOf(b.turns)?.arguments).toEqual({ people: '6', day: 'saturday', time: '20:30' });
    const c = talk(dialog, ['yes', 'for twenty people']);
    expect(c.turns[1]?.said).toBe('Sorry, we take tables for one to twelve people. How many will you be?');
    const d = talk(dialog, ['can I talk to a human']);
    expect(toolOf(d.turns)?.name).toBe('transferCall');
  });
});
