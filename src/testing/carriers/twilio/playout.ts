/**
 * The caller's phone as Twilio models it: audio Parley sends is queued and played at 1× on an
 * absolute clock; a `mark` is echoed when the audio queued before it has played; `clear` empties
 * the queue and echoes every pending mark at once (Twilio "Media Streams – WebSocket Messages":
 * "clear"), which are not played. What was played is kept as "heard".
 */
import { mulawDecode } from '../../../audio/g711.js';

const SAMPLES_PER_MS = 8;
const TICK_MS = 5;

type Item = { audio: Uint8Array } | { mark: string };

export class TwilioPlayout {
  readonly marksPlayed: string[] = [];
  readonly marksCleared: string[] = [];
  clears = 0;
  #queue: Item[] = [];
  #heard: Uint8Array[] = [];
  #heardBytes = 0;
  /** Start of the current run of continuous playback, and samples played in it. */
  #runStart = 0;
  #runPlayed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly echo: (markName: string) => void,
    private readonly now: () => number = () => performance.now(),
    /** Keep what was heard (false: only counted; `heard()` is then empty). */
    private readonly keepHeard = true,
  ) {}

  /** Queued µ-law bytes not yet played. */
  get queuedBytes(): number {
    let n = 0;
    for (const item of this.#queue) if ('audio' in item) n += item.audio.length;
    return n;
  }

  pushAudio(bytes: Uint8Array): void {
    this.#advance();
    if (this.#queue.length === 0) {
      this.#runStart = this.now();
      this.#runPlayed = 0;
    }
    this.#queue.push({ audio: bytes });
    this.#arm();
  }

  pushMark(name: string): void {
    this.#advance();
    this.#queue.push({ mark: name });
    this.#advance();
    this.#arm();
  }

  clear(): void {
    this.#advance();
    this.clears++;
    const pending = this.#queue.flatMap((item) => ('mark' in item ? [item.mark] : []));
    this.#queue = [];
    for (const name of pending) {
      this.marksCleared.push(name);
      this.echo(name);
    }
    this.#disarm();
  }

  heard(): Int16Array {
    this.#advance();
    const all = new Uint8Array(this.#heardBytes);
    let at = 0;
    for (const chunk of this.#heard) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return mulawDecode(all);
  }

  stop(): void {
    this.#advance();
    this.#disarm();
  }

  #advance(): void {
    let due = Math.floor((this.now() - this.#runStart) * SAMPLES_PER_MS) - this.#runPlayed;
    while (this.#queue.length > 0) {
      const head = this.#queue[0] as Item;
      if ('mark' in head) {
        this.#queue.shift();
        this.marksPlayed.push(head.mark);
        this.echo(head.mark);
        continue;
      }
      if (due <= 0) break;
      const take = Math.min(due, head.audio.length);
      if (this.keepHeard) {
        this.#heard.push(head.audio.subarray(0, take));
        this.#heardBytes += take;
      }
      this.#runPlayed += take;
      due -= take;
      if (take === head.audio.length) this.#queue.shift();
      else head.audio = head.audio.subarray(take);
    }
    if (this.#queue.length === 0) this.#disarm();
  }

  #arm(): void {
    if (this.#timer || this.#queue.length === 0) return;
    this.#timer = setInterval(() => this.#advance(), TICK_MS);
  }

  #disarm(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
