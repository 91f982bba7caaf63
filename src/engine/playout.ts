/**
 * What the caller actually heard. The server sends audio with mark ids; the client acks a mark
 * when the audio before it has played. Played audio maps to words proportionally within each
 * sentence's audio, so an interrupted reply keeps exactly the prefix the caller heard.
 */
export interface SpokenSentence {
  text: string;
  /** [start, end) in the reply's full text. */
  start: number;
  end: number;
  /** Where this sentence's audio starts within the reply's audio, and how long it is (ms). */
  audioStartMs: number;
  audioMs: number;
}

/**
 * The prefix of `fullText` heard after `playedMs` of the reply's audio: whole sentences that
 * finished playing, then, of the sentence playing, its first words in proportion to the played
 * share of its audio (rounded down). Always a prefix of `fullText`, cut at a word end.
 */
export function heardPrefix(
  fullText: string,
  sentences: readonly SpokenSentence[],
  playedMs: number,
): string {
  let cut = 0;
  for (const s of sentences) {
    if (playedMs >= s.audioStartMs + s.audioMs) {
      cut = s.end;
      continue;
    }
    if (playedMs > s.audioStartMs && s.audioMs > 0) {
      const share = (playedMs - s.audioStartMs) / s.audioMs;
      const words = [...fullText.slice(s.start, s.end).matchAll(/\S+/g)];
      const heard = Math.floor(words.length * share);
      const last = words[heard - 1];
      if (heard > 0 && last) cut = s.start + last.index + last[0].length;
    }
    break;
  }
  return fullText.slice(0, cut);
}

/** Mark ids in flight → the utterance and the audio position (ms) they stand for. */
export class MarkTracker<T> {
  private readonly pending = new Map<string, { owner: T; positionMs: number }>();
  private counter = 0;

  /** Registers a mark at `positionMs` of `owner`'s audio and returns its id. */
  add(owner: T, positionMs: number): string {
    const id = `m${++this.counter}`;
    this.pending.set(id, { owner, positionMs });
    return id;
  }

  /** The client played up to this mark; earlier marks are implied. Unknown ids (e.g. after a clear) are ignored. */
  ack(id: string): { owner: T; positionMs: number } | undefined {
    const hit = this.pending.get(id);
    if (!hit) return undefined;
    for (const [key, value] of this.pending) {
      if (value.owner === hit.owner && value.positionMs <= hit.positionMs) this.pending.delete(key);
      if (key === id) break;
    }
    this.pending.delete(id);
    return hit;
  }

  /** Forget every mark in flight (after `clear`): late acks are then ignored. */
  clear(): void {
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}
