/**
 * Synthesised audio of recent sentences, shared by all calls of the process: fixed phrases
 * (welcome, idle and goodbye messages, a scripted dialog's lines) play at once instead of
 * waiting for TTS. Entries are the 20 ms frames as synthesised (never modified once made), so
 * calls share them. Least recently used entries go first when over the budget.
 */
export class TtsCache {
  private readonly entries = new Map<string, Int16Array[]>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  static key(
    provider: string,
    voice: string | undefined,
    speed: number | undefined,
    sampleRate: number,
    text: string,
  ) {
    return `${provider}\u0000${voice ?? ''}\u0000${speed ?? 1}\u0000${sampleRate}\u0000${text}`;
  }

  get(key: string): Int16Array[] | undefined {
    const frames = this.entries.get(key);
    if (!frames) {
      this.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, frames);
    this.hits++;
    return frames;
  }

  set(key: string, frames: Int16Array[]): void {
    const size = frames.reduce((n, f) => n + f.byteLength, 0);
    if (size === 0 || size > this.maxBytes / 8 || this.entries.has(key)) return;
    this.entries.set(key, frames);
    this.bytes += size;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.reduce((n, f) => n + f.byteLength, 0);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
