/**
 * Deepgram live-transcription server messages (`/v1/listen`), validated with TypeBox: only the
 * fields the adapter uses are required; anything else may come and go.
 */
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const Word = Type.Object({
  word: Type.String(),
  start: Type.Number(),
  end: Type.Number(),
  confidence: Type.Optional(Type.Number()),
  punctuated_word: Type.Optional(Type.String()),
});

const Results = Type.Object({
  type: Type.Literal('Results'),
  start: Type.Number(),
  duration: Type.Number(),
  is_final: Type.Optional(Type.Boolean()),
  speech_final: Type.Optional(Type.Boolean()),
  from_finalize: Type.Optional(Type.Boolean()),
  channel: Type.Object({
    alternatives: Type.Array(
      Type.Object({
        transcript: Type.String(),
        confidence: Type.Optional(Type.Number()),
        words: Type.Optional(Type.Array(Word)),
      }),
    ),
  }),
});

const Other = Type.Object({
  type: Type.Union([
    Type.Literal('Metadata'),
    Type.Literal('UtteranceEnd'),
    Type.Literal('SpeechStarted'),
    Type.Literal('Error'),
  ]),
  description: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  err_msg: Type.Optional(Type.String()),
  request_id: Type.Optional(Type.String()),
});

export type DeepgramResults = Static<typeof Results>;
export type DeepgramOtherMessage = Static<typeof Other>;
export type DeepgramMessage = DeepgramResults | DeepgramOtherMessage;

const checkResults = TypeCompiler.Compile(Results);
const checkOther = TypeCompiler.Compile(Other);

/** Parses one text frame; `undefined` for anything that is not a message the adapter knows. */
export function parseDeepgramMessage(text: string): DeepgramMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (checkResults.Check(value)) return value;
  if (checkOther.Check(value)) return value;
  return undefined;
}
