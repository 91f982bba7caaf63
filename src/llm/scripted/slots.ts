/**
 * Slots of a scripted dialog: finding their values in a reply (any slot, several at once,
 * the last mention winning so "Tuesday, no, Wednesday" is Wednesday) and the phrases a caller
 * uses for them (for the STT grammar).
 *
 * A number can be a clock time or a count: a bare "ten" fills a numeric slot only when it is the
 * slot being asked or the only numeric slot in play; "at ten", "ten o'clock", "for four",
 * "four people" are marked and fill their own kind anywhere.
 */
import type { Slot } from './dialog-schema.js';
import {
  type ClockTime,
  formatClock,
  likelyTime,
  type Mention,
  normalize,
  numberMentions,
  numberWords,
  parseClock,
  timeFits,
  timeMentions,
} from './understanding.js';

export interface SlotValues {
  /** Slot → the value heard (canonical). */
  values: Record<string, string>;
  /** Slots for which a value of the right kind was heard but is not offered. */
  invalid: string[];
}

function best<T>(mentions: readonly Mention<T>[], bareAllowed: boolean): Mention<T> | undefined {
  const usable = mentions.filter((m) => !m.negated && (m.marked || bareAllowed));
  const marked = usable.filter((m) => m.marked);
  return (marked.length > 0 ? marked : usable).at(-1);
}

function markerWords(slot: Slot): string[] {
  return [...(slot.prefixes ?? []), ...(slot.suffixes ?? [])].flatMap((p) => normalize(p).split(' '));
}

/**
 * Values for `names` in the reply `tokens` (normalised words). `asked` is the slot the dialog
 * just asked for, which may take a bare number.
 */
export function extractSlots(
  slots: Readonly<Record<string, Slot>>,
  names: readonly string[],
  tokens: readonly string[],
  asked?: string,
): SlotValues {
  const out: SlotValues = { values: {}, invalid: [] };
  const numeric = names.filter((n) => slots[n]?.type === 'time' || slots[n]?.type === 'number');
  const times = timeMentions(tokens);
  const markedTimes = new Set(times.filter((m) => m.marked).map((m) => m.at));
  const text = tokens.join(' ');
  for (const name of names) {
    const slot = slots[name];
    if (!slot) continue;
    const bare = asked === name || (numeric.length === 1 && numeric[0] === name);
    if (slot.type === 'choice') {
      const found = findChoice(slot, tokens);
      if (found?.value !== undefined) out.values[name] = found.value;
      else if (found) out.invalid.push(name);
    } else if (slot.type === 'time') {
      const countAt = new Set(
        numberMentions(tokens, otherMarkers(slots, names, name))
          .filter((m) => m.marked)
          .map((m) => m.at),
      );
      const heard = best(
        times.filter((m) => m.marked || !countAt.has(m.at)),
        bare,
      );
      if (!heard) continue;
      const value = timeValue(slot, heard.value);
      if (value !== undefined) out.values[name] = value;
      else out.invalid.push(name);
    } else if (slot.type === 'number') {
      const mentions = numberMentions(tokens, markerWords(slot)).filter((m) => !markedTimes.has(m.at));
      const heard = best(mentions, bare);
      if (!heard) continue;
      const min = slot.min ?? 0;
      const max = slot.max ?? 99;
      if (heard.value >= min && heard.value <= max) out.values[name] = String(heard.value);
      else out.invalid.push(name);
    } else if (slot.pattern !== undefined) {
      const m = new RegExp(slot.pattern, 'iu').exec(text);
      const value = m?.groups?.value ?? m?.[0];
      if (value) out.values[name] = value;
    }
  }
  return out;
}

function otherMarkers(
  slots: Readonly<Record<string, Slot>>,
  names: readonly string[],
  self: string,
): string[] {
  return names.flatMap((n) => {
    const s = slots[n];
    return n !== self && s?.type === 'number' ? markerWords(s) : [];
  });
}

/** The last choice said (not negated): its value, or `{}` when it was one of `others`. */
function findChoice(slot: Slot, tokens: readonly string[]): { value?: string } | undefined {
  let bestAt = -1;
  let found: { value?: string } | undefined;
  const consider = (phrase: string, value: string | undefined) => {
    const words = normalize(phrase).split(' ');
    for (let i = 0; i + words.length <= tokens.length; i++) {
      if (!words.every((w, j) => tokens[i + j] === w)) continue;
      if (tokens[i - 1] === 'not' || (tokens[i - 2] === 'not' && tokens[i - 1] === 'on')) continue;
      if (i >= bestAt) {
        bestAt = i;
        found = value === undefined ? {} : { value };
      }
    }
  };
  for (const other of slot.others ?? []) consider(other, undefined);
  for (const [value, synonyms] of Object.entries(slot.choices ?? {})) {
    for (const s of [value, ...synonyms]) consider(s, value);
  }
  return found;
}

/** The slot value for a heard time: the offered label that fits, else undefined (not offered). */
function timeValue(slot: Slot, heard: ClockTime): string | undefined {
  if (!slot.times) return formatClock(likelyTime(heard));
  const fits = Object.entries(slot.times).filter(([, clock]) => {
    const minutes = parseClock(clock);
    return minutes !== undefined && timeFits(heard, minutes);
  });
  if (fits.length <= 1) return fits[0]?.[0];
  const likely = likelyTime(heard);
  return (fits.find(([, clock]) => parseClock(clock) === likely) ?? fits[0])?.[0];
}

// ---------------------------------------------------------------- phrases for the grammar
function withAffixes(slot: Slot, cores: readonly string[], defaultPrefixes: readonly string[]): string[] {
  const prefixes = (slot.prefixes ?? defaultPrefixes).map(normalize);
  const suffixes = (slot.suffixes ?? []).map(normalize);
  const out: string[] = [];
  for (const c of cores) {
    out.push(c);
    for (const p of prefixes) out.push(`${p} ${c}`);
    for (const s of suffixes) {
      out.push(`${c} ${s}`);
      for (const p of prefixes) out.push(`${p} ${c} ${s}`);
    }
  }
  return out;
}

/** Ways to say a clock time ("two", "two o clock", "two p m", "half past two", "two thirty"). */
export function timePhrases(minutes: number, full = true): string[] {
  const hour = Math.floor(minutes / 60);
  const minute = minutes % 60;
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  const hw = numberWords(h12);
  const ap = hour < 12 ? 'a m' : 'p m';
  if (minute === 0) {
    const out = [hw, `${hw} o clock`];
    if (full) out.push(`${hw} ${ap}`);
    if (full && hour === 12) out.push('noon');
    return out;
  }
  const mw = minute < 10 ? `oh ${numberWords(minute)}` : numberWords(minute);
  const out = [`${hw} ${mw}`];
  if (full) out.push(`${hw} ${mw} ${ap}`);
  if (minute === 30) out.push(`half past ${hw}`);
  if (minute === 15) out.push(`quarter past ${hw}`);
  if (minute === 45) out.push(`quarter to ${numberWords((h12 % 12) + 1)}`);
  return out;
}

/** Replies that give this slot; undefined when they cannot be listed (a pattern without phrases). */
export function slotPhrases(slot: Slot): string[] | undefined {
  const extra = (slot.phrases ?? []).map(normalize);
  switch (slot.type) {
    case 'choice': {
      const cores = Object.entries(slot.choices ?? {}).flatMap(([v, s]) => [v, ...s]);
      return [...withAffixes(slot, [...cores, ...(slot.others ?? [])].map(normalize), []), ...extra];
    }
    case 'time': {
      const offered = slot.times
        ? Object.values(slot.times).flatMap((c) => {
            const m = parseClock(c);
            return m === undefined ? [] : [m];
          })
        : Array.from({ length: 24 }, (_, i) => 360 + i * 30); // 6:00 to 17:30, every half hour
      const cores = offered.flatMap((m) => timePhrases(m));
      // Hours and half hours not offered, so "five" or "half past two" is heard as said (and
      // refused), not forced onto an offered time.
      for (let h = 1; h <= 12; h++)
        // Bare hours left out: a short "eight" is what a grammar fits to a breath after a day.
        cores.push(...timePhrases(h * 60, false).slice(1), ...timePhrases(h * 60 + 30, false));
      return [...new Set([...withAffixes(slot, cores, ['at']), ...extra])];
    }
    case 'number': {
      const min = slot.min ?? 0;
      const max = Math.min(slot.max ?? 99, min + 40);
      const cores: string[] = [];
      for (let n = min; n <= max; n++) cores.push(numberWords(n));
      return [...withAffixes(slot, cores, []), ...extra];
    }
    case 'pattern':
      return extra.length > 0 ? extra : undefined;
  }
}
