/**
 * The declarative dialog of a `scripted` assistant (`assistant.dialog`), as JSON, and its
 * validation (every problem named by its field). The format is documented in the README
 * ("Offline dialogs"); in short:
 *
 * - `nodes`: say something (`{{variable}}` templates), wait for a reply (`expect`), collect
 *   slots (`collect`), call a tool (`tool`), go on (`next`) or end the call (`end`).
 * - `slots`: typed values the caller may give in any reply, several at once, before they are
 *   asked (mixed initiative): `choice` (names and synonyms), `time` (clock times), `number`,
 *   `pattern` (a regular expression).
 * - `intents`: dialog-wide goodbye, help, repeat, start over and operator, on in every state.
 * - `noMatch`: escalating re-prompts and the graceful end after repeated failures.
 */
import { type Static, Type } from '@sinclair/typebox';

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Text = Type.String({ maxLength: 2000 });
const Phrase = Type.String({ minLength: 1, maxLength: 200 });
const Phrases = Type.Array(Phrase, { maxItems: 500 });
const Texts = Type.Array(Text, { minItems: 1, maxItems: 10 });

export const ExpectationSchema = Type.Object(
  {
    keywords: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
    pattern: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description: 'case-insensitive regex; named groups set variables',
      }),
    ),
    intent: Type.Optional(
      Type.Union([Type.Literal('yes'), Type.Literal('no')], { description: 'yes or no in their many forms' }),
    ),
    fills: Type.Optional(
      Type.Array(Name, {
        minItems: 1,
        maxItems: 20,
        description: 'matches when the reply gives any of these slots',
      }),
    ),
    set: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Text)),
    phrases: Type.Optional(
      Type.Array(Phrase, {
        maxItems: 500,
        description: 'replies to hand to the STT grammar (default: the keywords)',
      }),
    ),
    next: Name,
  },
  { additionalProperties: false },
);

export const SlotSchema = Type.Object(
  {
    type: Type.Union([
      Type.Literal('choice'),
      Type.Literal('time'),
      Type.Literal('number'),
      Type.Literal('pattern'),
    ]),
    /** The question that asks for it. */
    prompt: Text,
    /** Re-prompts after replies not understood, in order (the last one repeats). */
    reprompts: Type.Optional(Texts),
    /** Said for "help" while the slot is asked. */
    help: Type.Optional(Text),
    /** Said when a value of the right kind is heard but not offered ("Saturday", "half past six"). */
    invalid: Type.Optional(Text),
    /** Implicit confirmation said when the slot is filled ("{{day}}, fine."). */
    acknowledge: Type.Optional(Text),
    /** choice: value → its synonyms (the value itself always counts). */
    choices: Type.Optional(Type.Record(Name, Type.Array(Phrase, { maxItems: 50 }))),
    /** choice: values of the same kind that are not offered (heard → `invalid`). */
    others: Type.Optional(Type.Array(Phrase, { maxItems: 100 })),
    /** time: value → clock time "HH:MM" (24 h); without it any time, stored as "HH:MM". */
    times: Type.Optional(Type.Record(Name, Type.String({ pattern: '^\\d{1,2}:\\d{2}$' }))),
    /** number: the range accepted (defaults 0 and 99). */
    min: Type.Optional(Type.Integer({ minimum: 0, maximum: 9999 })),
    max: Type.Optional(Type.Integer({ minimum: 0, maximum: 9999 })),
    /** pattern: a case-insensitive regex over the normalised reply; group `value` (or the match) is stored. */
    pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    /** Words said before a value ("on" Monday, "at" ten, "for" four); they mark the kind too. */
    prefixes: Type.Optional(Type.Array(Phrase, { maxItems: 20 })),
    /** Words said after a value ("people"); they mark the kind too. */
    suffixes: Type.Optional(Type.Array(Phrase, { maxItems: 20 })),
    /** Extra replies for the STT grammar (a `pattern` slot needs them for a grammar). */
    phrases: Type.Optional(Phrases),
  },
  { additionalProperties: false },
);

export const CollectSchema = Type.Object(
  {
    /** Slots to fill, asked in this order when missing. */
    slots: Type.Array(Name, { minItems: 1, maxItems: 20 }),
    /** Explicit confirmation question once all are filled; without it the dialog goes on. */
    confirm: Type.Optional(Text),
    /** Asked after "no" to the confirmation. Default: "Sorry about that. What would you like instead?" */
    change: Type.Optional(Text),
    next: Name,
  },
  { additionalProperties: false },
);

export const DialogNodeSchema = Type.Object(
  {
    say: Type.Optional(Text),
    expect: Type.Optional(Type.Array(ExpectationSchema, { minItems: 1, maxItems: 50 })),
    collect: Type.Optional(CollectSchema),
    noMatch: Type.Optional(
      Type.Object({ say: Type.Optional(Text), next: Type.Optional(Name) }, { additionalProperties: false }),
    ),
    reprompts: Type.Optional(Texts),
    help: Type.Optional(Text),
    tool: Type.Optional(
      Type.Object(
        {
          name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
          arguments: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Text)),
          resultVariable: Type.Optional(Name),
          next: Name,
          onError: Type.Optional(Name),
        },
        { additionalProperties: false },
      ),
    ),
    next: Type.Optional(Name),
    end: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const IntentSchema = Type.Object(
  {
    /** false turns the intent off. */
    enabled: Type.Optional(Type.Boolean()),
    /** More phrases that mean it (found anywhere in a reply). */
    phrases: Type.Optional(Type.Array(Phrase, { maxItems: 50 })),
    say: Type.Optional(Text),
    /** Where to go (default: goodbye ends, start over goes to `start`, the others stay). */
    next: Type.Optional(Name),
  },
  { additionalProperties: false },
);

export const DialogSchema = Type.Object(
  {
    start: Name,
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Text)),
    slots: Type.Optional(Type.Record(Name, SlotSchema)),
    intents: Type.Optional(
      Type.Object(
        {
          goodbye: Type.Optional(IntentSchema),
          help: Type.Optional(IntentSchema),
          repeat: Type.Optional(IntentSchema),
          startOver: Type.Optional(IntentSchema),
          operator: Type.Optional(IntentSchema),
        },
        { additionalProperties: false },
      ),
    ),
    noMatch: Type.Optional(
      Type.Object(
        {
          /** Re-prompts in order; `{{prompt}}` is the question, `{{help}}` its help. */
          reprompts: Type.Optional(Texts),
          /** Replies not understood in a row before the graceful end. Default 3. */
          maxFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
          /** The graceful end's words. */
          say: Type.Optional(Text),
          /** Where to go instead of ending. */
          next: Type.Optional(Name),
        },
        { additionalProperties: false },
      ),
    ),
    nodes: Type.Record(Name, DialogNodeSchema),
  },
  { additionalProperties: false },
);

export type Dialog = Static<typeof DialogSchema>;
export type DialogNode = Static<typeof DialogNodeSchema>;
export type Expectation = Static<typeof ExpectationSchema>;
export type Slot = Static<typeof SlotSchema>;
export type Intent = Static<typeof IntentSchema>;

/** Where a running dialog is (rebuilt from the conversation on every request). */
export interface DialogState {
  node: string;
  vars: Record<string, string>;
  /** The tool node waiting for its result. */
  pendingTool: string | undefined;
  ended: boolean;
  /** Replies not understood in a row. */
  failures: number;
  /** The last question asked (for repeat, help and re-prompts). */
  prompt: string;
  /** In a collect node: the slot asked for, `#confirm` or `#change`. */
  awaiting: string | undefined;
}
