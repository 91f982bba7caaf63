/**
 * Cuts streamed LLM text into sentences for TTS as soon as each one is complete. Offsets are
 * into the concatenation of everything pushed, so a sentence maps back to the reply's text.
 */
export interface Sentence {
  text: string;
  /** [start, end) in the full reply text. */
  start: number;
  end: number;
}

const BOUNDARY = /[.!?;:]+["')\]]*\s+|\n+/g;

export class SentenceSplitter {
  private text = '';
  private emitted = 0;

  constructor(private readonly minChars = 12) {}

  get fullText(): string {
    return this.text;
  }

  /** Adds a delta; returns the sentences it completed. */
  push(delta: string): Sentence[] {
    this.text += delta;
    const out: Sentence[] = [];
    BOUNDARY.lastIndex = this.emitted;
    for (let m = BOUNDARY.exec(this.text); m; m = BOUNDARY.exec(this.text)) {
      const end = m.index + m[0].length;
      if (m.index + m[0].trimEnd().length - this.emitted < this.minChars && !m[0].includes('\n')) continue;
      const sentence = this.cut(end);
      if (sentence) out.push(sentence);
    }
    return out;
  }

  /** The rest, at the end of the stream. */
  flush(): Sentence[] {
    const sentence = this.cut(this.text.length);
    return sentence ? [sentence] : [];
  }

  private cut(end: number): Sentence | undefined {
    const raw = this.text.slice(this.emitted, end);
    const lead = raw.length - raw.trimStart().length;
    const body = raw.trim();
    const start = this.emitted + lead;
    this.emitted = end;
    if (!body) return undefined;
    return { text: body, start, end: start + body.length };
  }
}
