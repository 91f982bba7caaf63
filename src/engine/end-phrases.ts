/** Whether `text` contains one of `phrases` as whole words, ignoring case and punctuation. */
export function matchesPhrase(text: string, phrases: readonly string[]): boolean {
  const normal = ` ${normalize(text)} `;
  return phrases.some((phrase) => {
    const p = normalize(phrase);
    return p.length > 0 && normal.includes(` ${p} `);
  });
}

function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .trim();
}
