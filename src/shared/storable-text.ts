/**
 * NUL and unpaired UTF-16 surrogates: valid in JavaScript strings and JSON, but PostgreSQL's
 * text and jsonb refuse them (22P05, 22021), which would make every write of a call's events
 * fail for good. Input from outside is refused with them (HTTP 400, WebSocket 1007); text made
 * inside (transcripts, model output) is made storable with `toStorableText`.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
export const UNSTORABLE_TEXT = /[\u0000\p{Surrogate}]/u;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const UNSTORABLE_TEXT_ALL = /[\u0000\p{Surrogate}]/gu;

/** `text` with each NUL and unpaired surrogate replaced by U+FFFD (the replacement character). */
export function toStorableText(text: string): string {
  return UNSTORABLE_TEXT.test(text) ? text.replace(UNSTORABLE_TEXT_ALL, '\uFFFD') : text;
}
