/**
 * What a caller's reply means, for the scripted dialog: normalised words, yes or no in their
 * many forms, numbers and clock times as words or digits ("10", "ten", "10 am", "ten o'clock",
 * "half past two", "two thirty", "2:30"), and the dialog-wide intents (goodbye, help, repeat,
 * start over, operator). Pure functions over word lists; no I/O.
 */

/** Lowercase words: punctuation, hyphens and spacing removed; "10am" → "10 am", "2:30" → "2 30". */
export function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/(\d)[:.](\d)/g, '$1 $2')
    .replace(/(\d)([a-z])/g, '$1 $2')
    .replace(/\ba\.m\./g, 'am')
    .replace(/\bp\.m\./g, 'pm')
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

export function words(text: string): string[] {
  const n = normalize(text);
  return n ? n.split(' ') : [];
}

/** Index of the first occurrence of `phrase` (words) in `tokens` at or after `from`, or -1. */
export function findPhrase(tokens: readonly string[], phrase: readonly string[], from = 0): number {
  if (phrase.length === 0) return -1;
  outer: for (let i = from; i + phrase.length <= tokens.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (tokens[i + j] !== phrase[j]) continue outer;
    return i;
  }
  return -1;
}

function firstOf(tokens: readonly string[], phrases: readonly string[]): number {
  let best = -1;
  for (const p of phrases) {
    const at = findPhrase(tokens, p.split(' '));
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}

// ---------------------------------------------------------------- yes / no
// biome-ignore format: a word list reads best packed
export const YES_PHRASES = [
  'yes', 'yeah', 'yea', 'yep', 'yup', 'ya', 'sure', 'ok', 'okay', 'alright', 'all right', 'correct', 'right',
  "that's right", 'that is right', 'exactly', 'absolutely', 'definitely', 'certainly', 'of course',
  'please do', 'go ahead', 'sounds good', 'that works', 'perfect', 'fine', 'great', 'uh huh', 'affirmative',
  'i would', 'i do', 'indeed', 'please',
];
// biome-ignore format: a word list reads best packed
export const NO_PHRASES = [
  'no', 'nope', 'nah', 'not', "don't", 'do not', "didn't", 'negative', 'wrong', 'incorrect', 'never mind',
  'nevermind', "i don't think so", 'no thanks', 'no thank you', 'not really', 'cancel',
];

/** Yes or no, whichever is said first ("no, Wednesday" is a no; "sure, why not" a yes). */
export function yesNo(tokens: readonly string[]): 'yes' | 'no' | undefined {
  const yes = firstOf(tokens, YES_PHRASES);
  const no = firstOf(tokens, NO_PHRASES);
  if (yes < 0 && no < 0) return undefined;
  if (no < 0) return 'yes';
  if (yes < 0) return 'no';
  return no <= yes ? 'no' : 'yes';
}

// ---------------------------------------------------------------- numbers
// biome-ignore format: a word list reads best packed
const UNITS: Record<string, number> = {
  zero: 0, oh: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19,
};
// biome-ignore format: a word list reads best packed
const TENS: Record<string, number> = {
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
// biome-ignore format: a word list reads best packed
export const NUMBER_WORDS = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen',
];

/** Words for 0–99 ("forty five"). */
export function numberWords(n: number): string {
  if (n < 20) return NUMBER_WORDS[n] ?? String(n);
  const tens = Object.keys(TENS)[Math.floor(n / 10) - 2] ?? '';
  return n % 10 === 0 ? tens : `${tens} ${NUMBER_WORDS[n % 10]}`;
}

/** A number (digits, or words below 100) starting at `i`: its value and how many words it took. */
export function numberAt(
  tokens: readonly string[],
  i: number,
): { value: number; length: number } | undefined {
  const t = tokens[i];
  if (t === undefined) return undefined;
  if (/^\d{1,4}$/.test(t)) return { value: Number(t), length: 1 };
  if (t === 'a' && tokens[i + 1] === 'couple') return { value: 2, length: 2 };
  const tens = TENS[t];
  if (tens !== undefined) {
    const unit = UNITS[tokens[i + 1] ?? ''];
    return unit !== undefined && unit > 0 && unit < 10
      ? { value: tens + unit, length: 2 }
      : { value: tens, length: 1 };
  }
  const unit = UNITS[t];
  if (unit !== undefined && t !== 'oh') return { value: unit, length: 1 };
  return undefined;
}

export interface Mention<T> {
  value: T;
  /** Word index where it was said. */
  at: number;
  /** Said with a marker that makes its kind certain ("at", "o'clock", "pm", "for", "people"). */
  marked: boolean;
  /** Preceded by "not" ("not Tuesday"). */
  negated: boolean;
}

function negatedAt(tokens: readonly string[], i: number): boolean {
  const prev = tokens[i - 1];
  const prev2 = tokens[i - 2];
  return prev === 'not' || (prev === 'on' && prev2 === 'not') || (prev === 'at' && prev2 === 'not');
}

/** Numbers said in the reply (time expressions excluded by the caller when it matters). */
export function numberMentions(
  tokens: readonly string[],
  markers: readonly string[] = [],
): Mention<number>[] {
  const out: Mention<number>[] = [];
  for (let i = 0; i < tokens.length; ) {
    const n = numberAt(tokens, i);
    if (!n) {
      i++;
      continue;
    }
    const before = tokens[i - 1] ?? '';
    const after = tokens[i + n.length] ?? '';
    const marked = markers.includes(before) || markers.includes(after);
    out.push({ value: n.value, at: i, marked, negated: negatedAt(tokens, i) });
    i += n.length;
  }
  return out;
}

// ---------------------------------------------------------------- clock times
/** Minutes after midnight, and whether the half of the day was said (am/pm, morning, noon). */
export interface ClockTime {
  minutes: number;
  halfKnown: boolean;
}

const PM_WORDS = [['pm'], ['p', 'm'], ['in', 'the', 'afternoon'], ['in', 'the', 'evening'], ['tonight']];
const AM_WORDS = [['am'], ['a', 'm'], ['in', 'the', 'morning']];

function startsWith(tokens: readonly string[], i: number, phrase: readonly string[]): boolean {
  return phrase.every((w, j) => tokens[i + j] === w);
}

function minuteAt(tokens: readonly string[], i: number): { value: number; length: number } | undefined {
  if (tokens[i] === 'oh' || tokens[i] === 'o') {
    const n = numberAt(tokens, i + 1);
    return n && n.value < 10 ? { value: n.value, length: n.length + 1 } : undefined;
  }
  if (/^\d\d$/.test(tokens[i] ?? '')) {
    const value = Number(tokens[i]);
    return value < 60 ? { value, length: 1 } : undefined; // "2:05", "14:00"
  }
  const n = numberAt(tokens, i);
  return n && n.value >= 10 && n.value < 60 ? n : undefined;
}

/** Clock times said in the reply, each with where it was said and whether it is surely a time. */
export function timeMentions(tokens: readonly string[]): Mention<ClockTime>[] {
  const out: Mention<ClockTime>[] = [];
  for (let i = 0; i < tokens.length; ) {
    const t = tokens[i] ?? '';
    const negated = negatedAt(tokens, i);
    const marked0 = tokens[i - 1] === 'at' || tokens[i - 1] === 'around' || tokens[i - 1] === 'by';
    if (t === 'noon' || t === 'midday') {
      out.push({ value: { minutes: 720, halfKnown: true }, at: i, marked: true, negated });
      i++;
      continue;
    }
    // half past two, quarter past two, quarter to three
    const rel = t === 'half' || t === 'quarter' ? tokens[i + 1] : undefined;
    if (rel === 'past' || rel === 'after' || rel === 'to') {
      const h = numberAt(tokens, i + 2);
      if (h && h.value >= 1 && h.value <= 12) {
        const offset = t === 'half' ? 30 : 15;
        const minutes =
          rel === 'to'
            ? (h.value % 12) * 60 - offset + (h.value === 12 ? 720 : 0)
            : (h.value % 12) * 60 + offset;
        const { half, length } = halfOfDay(tokens, i + 2 + h.length);
        out.push({ value: withHalf((minutes + 1440) % 1440, half), at: i, marked: true, negated });
        i += 2 + h.length + length;
        continue;
      }
    }
    const h = numberAt(tokens, i);
    if (!h || h.value > 24 || (h.value === 0 && t !== '0' && t !== 'zero')) {
      i++;
      continue;
    }
    let j = i + h.length;
    let minute = 0;
    let marked = marked0;
    const m = h.value <= 12 || /^\d+$/.test(t) ? minuteAt(tokens, j) : undefined;
    if (m) {
      minute = m.value;
      j += m.length;
      marked = true;
    }
    if (startsWith(tokens, j, ["o'clock"]) || startsWith(tokens, j, ['o', 'clock'])) {
      j += tokens[j] === 'o' ? 2 : 1;
      marked = true;
    }
    const { half, length } = halfOfDay(tokens, j);
    if (half) marked = true;
    j += length;
    let minutes = h.value * 60 + minute;
    if (h.value > 12) out.push({ value: { minutes, halfKnown: true }, at: i, marked, negated });
    else {
      minutes = (h.value % 12) * 60 + minute;
      out.push({ value: withHalf(minutes, half), at: i, marked, negated });
    }
    i = j;
  }
  return out;
}

function halfOfDay(tokens: readonly string[], j: number): { half: 'am' | 'pm' | undefined; length: number } {
  for (const p of PM_WORDS) if (startsWith(tokens, j, p)) return { half: 'pm', length: p.length };
  for (const p of AM_WORDS) if (startsWith(tokens, j, p)) return { half: 'am', length: p.length };
  return { half: undefined, length: 0 };
}

function withHalf(minutes: number, half: 'am' | 'pm' | undefined): ClockTime {
  if (half === 'pm') return { minutes: (minutes % 720) + 720, halfKnown: true };
  if (half === 'am') return { minutes: minutes % 720, halfKnown: true };
  return { minutes, halfKnown: false };
}

/** "14:30" → 870; undefined for anything else. */
export function parseClock(text: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : undefined;
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** Whether a heard time (maybe without am/pm) can be `minutes` on the clock. */
export function timeFits(heard: ClockTime, minutes: number): boolean {
  if (heard.halfKnown) return heard.minutes === minutes;
  return heard.minutes % 720 === minutes % 720;
}

/** A time heard without am/pm, put in opening hours: 1 to 7 are afternoon or evening, 8 to 12 morning and noon. */
export function likelyTime(heard: ClockTime): number {
  if (heard.halfKnown) return heard.minutes;
  const hour = Math.floor(heard.minutes / 60);
  return hour >= 1 && hour <= 7 ? heard.minutes + 720 : heard.minutes;
}

// ---------------------------------------------------------------- dialog-wide intents
export type GlobalIntent = 'goodbye' | 'help' | 'repeat' | 'startOver' | 'operator';

/** Phrases found anywhere in a reply. */
// biome-ignore format: a word list reads best packed
export const CONTAINED_INTENTS: Partial<Record<GlobalIntent, readonly string[]>> = {
  goodbye: [
    'goodbye', 'good bye', 'bye', 'bye bye', "that's all", 'that is all', "that'll be all", 'hang up',
    "i'm done", 'i am done', 'nothing else',
  ],
  operator: [
    'operator', 'a human', 'a person', 'real person', 'an agent', 'representative', 'speak to someone',
    'talk to someone', 'a receptionist',
  ],
  startOver: ['start over', 'start again', 'start from the beginning', 'begin again', 'from the top'],
};

/** Phrases that must be the whole reply (after fillers and politeness are dropped). */
// biome-ignore format: a word list reads best packed
export const WHOLE_INTENTS: Partial<Record<GlobalIntent, readonly string[]>> = {
  help: [
    'help', 'help me', 'i need help', 'what can i say', 'what are my options', 'what are the options',
    "i don't understand", 'i do not understand', 'what do you mean', "i don't know", 'options',
  ],
  repeat: [
    'repeat', 'repeat that', 'say that again', 'say again', 'what', 'pardon', 'pardon me', 'sorry',
    'come again', 'what did you say', 'again', 'one more time', 'excuse me', 'huh', 'i missed that',
    "i didn't catch that", 'what was that',
  ],
  startOver: ['restart', 'reset'],
};

/** Words that carry no meaning of their own in a reply. */
// biome-ignore format: a word list reads best packed
export const FILLER_WORDS = ['um', 'umm', 'uh', 'er', 'erm', 'hmm', 'mm', 'ah', 'oh', 'well', 'so', 'like'];
// biome-ignore format: a word list reads best packed
export const POLITE_WORDS = ['please', 'thanks', 'thank', 'you', 'can', 'could', 'would', 'just', 'again'];

function stripped(tokens: readonly string[]): string {
  const drop = new Set([...FILLER_WORDS, ...POLITE_WORDS.filter((w) => w !== 'again' && w !== 'you')]);
  let t = tokens.filter((w) => !drop.has(w)).join(' ');
  t = t.replace(/^(you |i want (you )?to |i'd like (you )?to |i would like (you )?to )/, '');
  return t.replace(/ you$/, '').trim();
}

/**
 * Words that may come with a goodbye ("okay, thanks, bye", "no, that's all for now"). Anything
 * else makes the reply not a goodbye: a recogniser that hears "eight goodbye" for "yep" must
 * not end the call, which cannot be undone.
 */
// biome-ignore format: a word list reads best packed
const GOODBYE_COMPANIONS = new Set([
  ...FILLER_WORDS, ...POLITE_WORDS, 'no', 'nope', 'yes', 'yeah', 'ok', 'okay', 'alright', 'all', 'right',
  'then', "that's", 'that', 'is', "that'll", 'will', 'be', 'it', "it's", 'for', 'now', 'today', 'i', "i'm",
  'am', 'done', 'nothing', 'else', 'good', 'bye', 'goodbye', 'hang', 'up', 'great', 'cheers', 'very', 'much',
  'have', 'a', 'nice', 'day', 'see', 'ya', 'talk', 'later', 'the', 'call',
]);

/** The dialog-wide intent of a reply, if it is one (goodbye first: ending is never missed). */
export function globalIntent(
  tokens: readonly string[],
  extra: Partial<Record<GlobalIntent, readonly string[]>> = {},
): GlobalIntent | undefined {
  const order: GlobalIntent[] = ['goodbye', 'operator', 'startOver', 'help', 'repeat'];
  for (const intent of order) {
    const own = (extra[intent] ?? []).map(normalize);
    const contained = [...(CONTAINED_INTENTS[intent] ?? []), ...own];
    if (firstOf(tokens, contained.map(normalize)) < 0) continue;
    if (intent === 'goodbye' && firstOf(tokens, own) < 0) {
      if (!tokens.every((t) => GOODBYE_COMPANIONS.has(t))) continue;
    }
    return intent;
  }
  const whole = stripped(tokens);
  for (const intent of order) if ((WHOLE_INTENTS[intent] ?? []).includes(whole)) return intent;
  return undefined;
}
