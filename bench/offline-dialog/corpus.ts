/**
 * The synthetic callers of the offline dialog benchmark (issue 16 item 7): scripts written to
 * vary (short and long answers, day and time together, corrections, fillers, numbers as digits
 * and words, off-topic questions, callers who decline), and the voices that speak them.
 *
 * A script is reactive, not a fixed list of turns: the caller hears what the assistant asks
 * (the opening yes/no question, the day, the time, a read-back to confirm) and answers from the
 * list for that question, in order, the last answer repeating. At a read-back it says `yes`
 * when the assistant has its day and time right and `correction` otherwise, so the same script
 * works whatever dialog engine the demo assistant has.
 *
 * HELD OUT: scripts and voices with `heldOut: true` are not for tuning the dialog or its
 * grammar; the dialog's spoken web-call test uses them (`heldOutScripts`, `heldOutVoices`).
 */

export const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const;
export const TIMES = ['nine', 'ten', 'eleven', 'two', 'three', 'four'] as const;
export type Day = (typeof DAYS)[number];
export type Time = (typeof TIMES)[number];

export interface CallerScript {
  id: string;
  /** What the caller wants: booked on this day at this time, or nothing (`null`: declines). */
  goal: { day: Day; time: Time } | null;
  /** Answers to the opening "would you like to book" question (in order; the last repeats). */
  offer: string[];
  /** Answers when asked for the day (default: the goal's day). */
  day?: string[];
  /** Answers when asked for the time (default: the goal's time). */
  time?: string[];
  /** Said at a read-back that matches the goal (default "yes"). */
  yes?: string;
  /** Said at a read-back that does not (default "no, <day> at <time>"). */
  correction?: string;
  /** Utterances outside the booking domain (excluded from the in-domain word error rate). */
  offTopic?: string[];
  tags: string[];
  heldOut?: boolean;
}

export interface CallerVoice {
  id: string;
  engine: 'flite' | 'espeak-ng';
  voice: string;
  /** Speaking rate (1 = the engine's normal). */
  speed: number;
  heldOut?: boolean;
}

export const VOICES: CallerVoice[] = [
  { id: 'flite-slt', engine: 'flite', voice: 'slt', speed: 1 },
  { id: 'flite-rms', engine: 'flite', voice: 'rms', speed: 1 },
  { id: 'flite-kal16', engine: 'flite', voice: 'kal16', speed: 1 },
  { id: 'espeak-us', engine: 'espeak-ng', voice: 'en-us', speed: 1 },
  { id: 'flite-awb-slow', engine: 'flite', voice: 'awb', speed: 0.9, heldOut: true },
  { id: 'espeak-gb-f3-fast', engine: 'espeak-ng', voice: 'en-gb+f3', speed: 1.15, heldOut: true },
];

const decline = (id: string, offer: string[], tags: string[], extra: Partial<CallerScript> = {}) =>
  ({ id, goal: null, offer, tags: ['decline', ...tags], ...extra }) satisfies CallerScript;

export const SCRIPTS: CallerScript[] = [
  // Short answers, one slot at a time.
  { id: 's01', goal: { day: 'tuesday', time: 'ten' }, offer: ['yes'], tags: ['short'] },
  { id: 's02', goal: { day: 'monday', time: 'nine' }, offer: ['yeah'], tags: ['short'] },
  {
    id: 's03',
    goal: { day: 'friday', time: 'three' },
    offer: ['sure'],
    time: ["three o'clock"],
    tags: ['short'],
  },
  {
    id: 's04',
    goal: { day: 'wednesday', time: 'eleven' },
    offer: ['yes please'],
    day: ['on wednesday'],
    time: ['at eleven'],
    tags: ['short'],
  },
  {
    id: 's05',
    goal: { day: 'thursday', time: 'two' },
    offer: ['okay'],
    yes: 'correct',
    tags: ['short'],
    heldOut: true,
  },
  // Long answers.
  {
    id: 'l01',
    goal: { day: 'wednesday', time: 'two' },
    offer: ['yes I would like to book an appointment please'],
    day: ['I think wednesday would be best for me'],
    time: ['could I come in at two in the afternoon'],
    yes: 'yes that is right thank you',
    tags: ['long'],
  },
  {
    id: 'l02',
    goal: { day: 'monday', time: 'ten' },
    offer: ['good morning, I would like to make an appointment'],
    day: ['monday if you have anything'],
    time: ['ten in the morning would suit me'],
    yes: 'yes that sounds good',
    tags: ['long'],
  },
  {
    id: 'l03',
    goal: { day: 'friday', time: 'four' },
    offer: ['yes, I need to see the doctor'],
    day: ['friday would be great'],
    time: ["four o'clock is fine"],
    yes: 'yes please book it',
    tags: ['long'],
  },
  {
    id: 'l04',
    goal: { day: 'thursday', time: 'nine' },
    offer: ['hello, yes, I was hoping to book an appointment'],
    day: ['can we do thursday'],
    time: ['nine would be perfect'],
    yes: 'that is perfect',
    tags: ['long'],
  },
  {
    id: 'l05',
    goal: { day: 'tuesday', time: 'three' },
    offer: ['yes, I would like an appointment for my daughter'],
    day: ['tuesday works best for us'],
    time: ['three in the afternoon please'],
    yes: 'yes that would be lovely',
    tags: ['long'],
    heldOut: true,
  },
  // Day and time together.
  {
    id: 'd01',
    goal: { day: 'tuesday', time: 'ten' },
    offer: ['yes, tuesday at ten'],
    tags: ['day+time', 'at-offer'],
  },
  {
    id: 'd02',
    goal: { day: 'thursday', time: 'four' },
    offer: ['can I come in on thursday at four'],
    tags: ['day+time', 'at-offer'],
  },
  {
    id: 'd03',
    goal: { day: 'monday', time: 'eleven' },
    offer: ['I would like an appointment on monday at eleven please'],
    tags: ['day+time', 'at-offer', 'long'],
  },
  {
    id: 'd04',
    goal: { day: 'friday', time: 'nine' },
    offer: ['yes'],
    day: ['friday at nine'],
    tags: ['day+time'],
  },
  {
    id: 'd05',
    goal: { day: 'wednesday', time: 'ten' },
    offer: ["ten o'clock on wednesday"],
    tags: ['day+time', 'at-offer', 'time-first'],
    heldOut: true,
  },
  {
    id: 'd06',
    goal: { day: 'friday', time: 'eleven' },
    offer: ['yes, I was wondering if I could come in on friday at eleven'],
    tags: ['day+time', 'at-offer', 'long'],
  },
  { id: 'd07', goal: { day: 'tuesday', time: 'two' }, offer: ['tuesday'], tags: ['day-at-offer'] },
  {
    id: 'd08',
    goal: { day: 'monday', time: 'nine' },
    offer: ['monday morning at nine'],
    tags: ['day+time', 'at-offer'],
  },
  // Corrections.
  {
    id: 'c01',
    goal: { day: 'wednesday', time: 'ten' },
    offer: ['yes'],
    day: ['monday', 'wednesday'],
    correction: 'no, make it wednesday',
    tags: ['correction'],
  },
  {
    id: 'c02',
    goal: { day: 'tuesday', time: 'three' },
    offer: ['yes please'],
    time: ['two', 'three'],
    correction: "no, three o'clock",
    tags: ['correction'],
  },
  {
    id: 'c03',
    goal: { day: 'thursday', time: 'eleven' },
    offer: ['yes'],
    day: ['tuesday, no sorry, thursday'],
    tags: ['correction', 'self-correction'],
  },
  {
    id: 'c04',
    goal: { day: 'friday', time: 'two' },
    offer: ['yes, monday at two'],
    day: ['friday'],
    correction: 'no, friday',
    tags: ['correction', 'day+time'],
    heldOut: true,
  },
  {
    id: 'c05',
    goal: { day: 'monday', time: 'four' },
    offer: ['yes'],
    time: ['three', 'four'],
    correction: 'no sorry, I meant four',
    tags: ['correction'],
  },
  // Fillers and hesitation.
  {
    id: 'f01',
    goal: { day: 'tuesday', time: 'ten' },
    offer: ['um, yes please'],
    day: ['uh, let me think, tuesday'],
    time: ['hmm, ten I guess'],
    tags: ['filler'],
  },
  {
    id: 'f02',
    goal: { day: 'friday', time: 'four' },
    offer: ['well, yeah'],
    day: ['er, friday'],
    time: ["um, four o'clock"],
    tags: ['filler'],
  },
  {
    id: 'f03',
    goal: { day: 'wednesday', time: 'nine' },
    offer: ['oh, yes, okay'],
    day: ['wednesday, I suppose'],
    time: ['nine, please'],
    yes: 'yes, okay',
    tags: ['filler'],
    heldOut: true,
  },
  // Numbers as digits (the voices read them) and as words.
  {
    id: 'n01',
    goal: { day: 'monday', time: 'ten' },
    offer: ['yes'],
    time: ['10 am'],
    tags: ['digits'],
  },
  {
    id: 'n02',
    goal: { day: 'thursday', time: 'two' },
    offer: ['thursday at 2'],
    tags: ['digits', 'day+time', 'at-offer'],
  },
  {
    id: 'n03',
    goal: { day: 'friday', time: 'eleven' },
    offer: ['yes'],
    time: ["11 o'clock"],
    tags: ['digits'],
  },
  {
    id: 'n04',
    goal: { day: 'tuesday', time: 'four' },
    offer: ['yes'],
    time: ['at 4 pm'],
    tags: ['digits'],
    heldOut: true,
  },
  {
    id: 'n05',
    goal: { day: 'wednesday', time: 'eleven' },
    offer: ['yes'],
    time: ["eleven o'clock in the morning"],
    tags: ['words'],
  },
  // Off-topic questions.
  {
    id: 'o01',
    goal: { day: 'monday', time: 'three' },
    offer: ['what are your opening hours', 'okay, yes please'],
    offTopic: ['what are your opening hours'],
    tags: ['off-topic'],
  },
  {
    id: 'o02',
    goal: { day: 'thursday', time: 'ten' },
    offer: ['yes'],
    day: ['do you have parking', 'thursday'],
    offTopic: ['do you have parking'],
    tags: ['off-topic'],
  },
  {
    id: 'o03',
    goal: { day: 'tuesday', time: 'nine' },
    offer: ['how much does it cost', 'alright, yes'],
    offTopic: ['how much does it cost'],
    tags: ['off-topic'],
  },
  {
    id: 'o04',
    goal: { day: 'friday', time: 'ten' },
    offer: ['sorry, can you repeat that', 'yes'],
    tags: ['repeat'],
    heldOut: true,
  },
  // Politeness and yes/no variants.
  {
    id: 'p01',
    goal: { day: 'wednesday', time: 'three' },
    offer: ['yes please, thank you'],
    day: ['wednesday please'],
    time: ['three please'],
    yes: 'yes, thank you',
    tags: ['politeness'],
  },
  {
    id: 'p02',
    goal: { day: 'monday', time: 'two' },
    offer: ['yep'],
    yes: 'absolutely',
    tags: ['short', 'yes-variant'],
  },
  {
    id: 'p03',
    goal: { day: 'thursday', time: 'three' },
    offer: ['that would be great'],
    yes: 'sounds good',
    tags: ['yes-variant'],
  },
  // Callers who decline.
  decline('x01', ['no'], ['short']),
  decline('x02', ['no thank you'], ['short']),
  decline('x03', ['no thanks, I was just calling to check something'], ['long']),
  decline('x04', ['not today, goodbye'], ['goodbye'], { heldOut: true }),
  decline('x05', ['no I am fine thanks'], []),
  decline('x06', ['nope'], ['short']),
  decline('x07', ['yes'], ['changes-mind'], {
    day: ['actually, never mind, I do not want to book', 'no thanks, goodbye'],
    time: ['no thanks, goodbye'],
  }),
];

export const heldOutScripts = (): CallerScript[] => SCRIPTS.filter((s) => s.heldOut);
export const heldOutVoices = (): CallerVoice[] => VOICES.filter((v) => v.heldOut);

/** The quick corpus (CORPUS=small): a few scripts of each kind, four voices. */
export const SMALL_SCRIPTS = ['s01', 'l01', 'd01', 'c01', 'f01', 'n02', 'o01', 'x02'];
export const SMALL_VOICES = ['flite-slt', 'flite-rms', 'flite-kal16', 'espeak-us'];
