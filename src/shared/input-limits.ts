/**
 * Per-call bounds on what one client may make a call do. Every call's work (turns, the
 * conversation carried by each `conversation-update`, STT minutes) grows with what its client
 * sends; these limits keep it linear and bounded. All times in milliseconds.
 */
export interface InputLimits {
  /** Sustained rate of `user-text` and `say` messages a client may send (per second). */
  textMessagesPerSecond: number;
  /** How many of them may arrive at once before the rate applies. */
  textMessageBurst: number;
  /** Longest `user-text` / `say` text (characters); the protocol schema enforces it. */
  maxTextChars: number;
  /** User turns per call (typed or spoken); the next one ends the call. */
  maxUserTurns: number;
  /** Characters of conversation text per call (every message, both roles); past it the call ends. */
  maxConversationChars: number;
  /**
   * Caller audio is accepted up to real time plus this allowance (audio admitted ≤ wall-clock
   * time since the first frame + this); frames beyond are dropped, never reach the STT, and are
   * not metered.
   */
  audioBurstMs: number;
  /** A client that joined but sent no `hello` within this is closed; the call ends `no-answer`. */
  helloTimeoutMs: number;
  /** How often the server pings the client (WebSocket ping). */
  pingIntervalMs: number;
  /** A ping not answered (pong) within this closes the connection; the call ends. */
  pongTimeoutMs: number;
}

export const defaultInputLimits = {
  textMessagesPerSecond: 2,
  textMessageBurst: 10,
  maxTextChars: 4000,
  maxUserTurns: 500,
  maxConversationChars: 200_000,
  audioBurstMs: 1000,
  helloTimeoutMs: 10_000,
  pingIntervalMs: 15_000,
  pongTimeoutMs: 10_000,
} as const satisfies InputLimits;

export function resolveInputLimits(limits: Partial<InputLimits> | undefined): InputLimits {
  return { ...defaultInputLimits, ...limits };
}

/**
 * A token bucket: `capacity` tokens, refilled at `perMs` tokens per millisecond of the clock
 * passed to `take`. Starts full.
 */
export class TokenBucket {
  private tokens: number;
  private last: number | undefined;

  constructor(
    private readonly perMs: number,
    private readonly capacity: number,
  ) {
    this.tokens = capacity;
  }

  /** Takes `amount` tokens at time `now` (ms); false (nothing taken) when there are not enough. */
  take(amount: number, now: number): boolean {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    }
    if (this.last === undefined || now > this.last) this.last = now;
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }
}

/**
 * Caller audio paced to real time: a frame is admitted while the audio admitted so far stays
 * within the wall-clock time since the first frame plus `burstMs`. A backlog that arrives late
 * (a network stall) is still taken in full; audio ahead of the clock is dropped (and counted).
 */
export class AudioPacer {
  private firstAt: number | undefined;
  private admittedMs = 0;
  droppedMs = 0;

  constructor(private readonly burstMs: number) {}

  admit(frameMs: number, now: number): boolean {
    this.firstAt ??= now;
    if (this.admittedMs + frameMs <= now - this.firstAt + this.burstMs) {
      this.admittedMs += frameMs;
      return true;
    }
    this.droppedMs += frameMs;
    return false;
  }
}

/** Why a call's conversation may not grow further, or undefined while it may. */
export function conversationLimitReached(
  limits: Pick<InputLimits, 'maxUserTurns' | 'maxConversationChars'>,
  userTurns: number,
  conversationChars: number,
): string | undefined {
  if (userTurns > limits.maxUserTurns) return `more than ${limits.maxUserTurns} user turns`;
  if (conversationChars > limits.maxConversationChars)
    return `conversation over ${limits.maxConversationChars} characters`;
  return undefined;
}
