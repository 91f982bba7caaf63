/**
 * Cuts text into pieces for engines that only output audio once a whole input is synthesised:
 * whole sentences (Intl.Segmenter) packed greedily up to `maxChars`; a single longer sentence
 * is cut at word boundaries. Whitespace-only text gives no pieces.
 */
const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

export function splitForSynthesis(text: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let current = '';
  const pushPiece = (piece: string) => {
    const trimmed = piece.trim();
    if (trimmed.length > 0) pieces.push(trimmed);
  };
  for (const { segment } of segmenter.segment(text)) {
    if (current.length + segment.length <= maxChars) {
      current += segment;
      continue;
    }
    pushPiece(current);
    current = '';
    if (segment.length <= maxChars) {
      current = segment;
      continue;
    }
    for (const word of segment.split(/(?<=\s)/)) {
      if (current.length + word.length > maxChars) {
        pushPiece(current);
        current = '';
      }
      current += word;
    }
  }
  pushPiece(current);
  return pieces;
}
