/**
 * Whether `text` contains one of `phrases` as whole words, ignoring case, punctuation, hyphens,
 * apostrophes and where the spaces fall: speech recognisers write the same words several ways
 * ("goodbye", "good bye", "Good-bye."; "that's all", "thats all"), so a phrase matches any run
 * of whole words whose letters, joined, are the phrase's letters joined.
 */
export function matchesPhrase(text: string, phrases: readonly string[]): boolean {
  const words = wordsOf(text);
  return phrases.some((phrase) => {
    const target = wordsOf(phrase).join('');
    if (target.length === 0) return false;
    for (let start = 0; start < words.length; start++) {
      let joined = '';
      for (let end = start; end < words.length && joined.length < target.length; end++) {
        joined += words[end];
        if (joined === target) return true;
        if (!target.startsWith(joined)) break;
      }
    }
    return false;
  });
}

function wordsOf(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/['’]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}
