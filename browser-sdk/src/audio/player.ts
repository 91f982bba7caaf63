/** What the player is doing, for UIs and tests. */
export interface PlaybackState {
  /** Audio is playing or scheduled. */
  playing: boolean;
  /** How many `clear`s stopped playback. */
  clears: number;
  /** Audio actually played so far (cleared audio counts only up to where it was cut). */
  playedMs: number;
  /** Audio scheduled but not yet played. */
  queuedMs: number;
}

export const defaultPlayerOptions = {
  /** Scheduling lead when playback (re)starts, so the first frames do not underrun. */
  startLeadMs: 60,
} as const;

interface Scheduled {
  seq: number;
  node: AudioBufferSourceNode;
  startAt: number;
  durationS: number;
}

/**
 * Plays the server's PCM16 frames in order, each as an AudioBufferSource scheduled back to
 * back on the AudioContext clock. A mark is acked when the source scheduled just before it
 * has ended, i.e. when the audio before the mark has really played; `clear` stops every
 * source at once and drops queued audio and the marks behind it.
 */
export class Player {
  private readonly scheduled: Scheduled[] = [];
  private marks: { seq: number; id: string }[] = [];
  private nextTime = 0;
  private seq = 0;
  private clears = 0;
  private playedMs = 0;

  constructor(
    private readonly ctx: AudioContext,
    private readonly sampleRate: number,
    private readonly ackMark: (id: string) => void,
    private readonly onChange: () => void,
  ) {}

  enqueue(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    const buffer = this.ctx.createBuffer(1, pcm.length, this.sampleRate);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) channel[i] = (pcm[i] ?? 0) / 32768;
    const node = this.ctx.createBufferSource();
    node.buffer = buffer;
    node.connect(this.ctx.destination);
    const now = this.ctx.currentTime;
    const startAt = this.nextTime > now ? this.nextTime : now + defaultPlayerOptions.startLeadMs / 1000;
    const entry: Scheduled = { seq: ++this.seq, node, startAt, durationS: buffer.duration };
    node.onended = () => this.ended(entry);
    node.start(startAt);
    this.nextTime = startAt + buffer.duration;
    this.scheduled.push(entry);
    if (this.scheduled.length === 1) this.onChange();
  }

  /** Ack `id` once everything enqueued so far has played (at once when nothing is queued). */
  mark(id: string): void {
    const last = this.scheduled[this.scheduled.length - 1];
    if (!last) {
      this.ackMark(id);
      return;
    }
    this.marks.push({ seq: last.seq, id });
  }

  /** Stop now: every scheduled source stops, queued audio and pending marks are dropped. */
  clear(): void {
    const now = this.ctx.currentTime;
    const cut = this.scheduled.splice(0);
    for (const entry of cut) {
      entry.node.onended = null;
      if (entry.startAt < now) this.playedMs += Math.min(now - entry.startAt, entry.durationS) * 1000;
      try {
        entry.node.stop();
      } catch {
        // already stopped
      }
      entry.node.disconnect();
    }
    this.marks = [];
    this.nextTime = 0;
    this.clears++;
    this.onChange();
  }

  get state(): PlaybackState {
    const queuedS = this.scheduled.length > 0 ? Math.max(0, this.nextTime - this.ctx.currentTime) : 0;
    return {
      playing: this.scheduled.length > 0,
      clears: this.clears,
      playedMs: Math.round(this.playedMs),
      queuedMs: Math.round(queuedS * 1000),
    };
  }

  /** Stops everything without counting a clear (end of call). */
  close(): void {
    for (const entry of this.scheduled.splice(0)) {
      entry.node.onended = null;
      try {
        entry.node.stop();
      } catch {
        // already stopped
      }
    }
    this.marks = [];
  }

  private ended(entry: Scheduled): void {
    const index = this.scheduled.indexOf(entry);
    if (index === -1) return;
    // Sources end in schedule order; anything before this one has ended too.
    const done = this.scheduled.splice(0, index + 1);
    for (const d of done) this.playedMs += d.durationS * 1000;
    while (this.marks.length > 0 && (this.marks[0]?.seq ?? Number.POSITIVE_INFINITY) <= entry.seq) {
      const mark = this.marks.shift();
      if (mark) this.ackMark(mark.id);
    }
    if (this.scheduled.length === 0) this.onChange();
  }
}
