/**
 * Parses `pocketsphinx_continuous -time yes` stdout. Per utterance it prints the hypothesis
 * line, then one `word start end posterior` line per segment (seconds since the decoder
 * started, 10 ms frames, fillers such as `<sil>` included), then flushes stdout once.
 *
 * Hand-written: there is no library for this CLI's ad-hoc text output.
 */

export interface DecodedWord {
  word: string;
  startSec: number;
  endSec: number;
  posterior: number;
}

export interface DecodedUtterance {
  text: string;
  /** Real words only (fillers and alternates' `(2)` markers removed). */
  words: DecodedWord[];
}

const TIME_LINE = /^(\S+) (-?\d+\.\d+) (-?\d+\.\d+) (-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/;

function isFiller(word: string): boolean {
  // <s>, </s>, <sil>, [NOISE], [BREATH], ++GARBAGE++ …
  // `(NULL) -0.010 -0.010 1.000000` is the time line of an empty grammar hypothesis.
  return word.startsWith('<') || word.startsWith('[') || word.startsWith('+') || word === '(NULL)';
}

/**
 * Feed raw stdout chunks; complete utterances are handed to `onUtterance`. Because the CLI
 * flushes once per utterance (one write, well under PIPE_BUF), an utterance is complete at the
 * end of the chunk that carried it; a later stray time line without a hypothesis is ignored.
 */
export class PocketsphinxOutputParser {
  private carry = '';
  private pending: DecodedUtterance | undefined;

  constructor(private readonly onUtterance: (utterance: DecodedUtterance) => void) {}

  push(chunk: string): void {
    const text = this.carry + chunk;
    const lines = text.split('\n');
    this.carry = lines.pop() ?? '';
    for (const line of lines) this.line(line.trimEnd());
    if (this.carry.length === 0) this.emit();
  }

  /** End of output: emits whatever is pending. */
  end(): void {
    if (this.carry.length > 0) this.line(this.carry.trimEnd());
    this.carry = '';
    this.emit();
  }

  private line(line: string): void {
    // An empty grammar hypothesis, whatever its time fields look like, is never a transcript.
    if (/^\s*\(NULL\)(\s|$)/.test(line)) return;
    const m = TIME_LINE.exec(line);
    if (m) {
      const word = (m[1] ?? '').replace(/\(\d+\)$/, '');
      if (this.pending && !isFiller(word)) {
        this.pending.words.push({
          word,
          startSec: Number(m[2]),
          endSec: Number(m[3]),
          posterior: Number(m[4]),
        });
      }
      return;
    }
    this.emit();
    this.pending = { text: line.trim(), words: [] };
  }

  private emit(): void {
    const utterance = this.pending;
    this.pending = undefined;
    if (utterance && utterance.text.length > 0) this.onUtterance(utterance);
  }
}
