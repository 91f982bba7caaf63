/**
 * The turn state machine of one call: who holds the floor. A hand-written transition table;
 * events that do not apply in a state leave it unchanged (and `apply` says so).
 */
export type TurnState = 'listening' | 'user-speaking' | 'thinking' | 'assistant-speaking';

export type TurnEvent =
  /** VAD heard the caller start (or a text message arrived). */
  | 'user-started'
  /** Endpointing decided the caller stopped, without a transcript yet. */
  | 'user-paused'
  /** A user message was committed; a reply is being prepared. */
  | 'user-turn'
  /** The first audio (or text) of a reply went out. */
  | 'reply-started'
  /** Everything queued was played (or nothing will be). */
  | 'reply-done'
  /** The caller barged in. */
  | 'interrupted';

const table: Record<TurnState, Partial<Record<TurnEvent, TurnState>>> = {
  listening: {
    'user-started': 'user-speaking',
    'user-turn': 'thinking',
    'reply-started': 'assistant-speaking',
  },
  'user-speaking': {
    'user-paused': 'listening',
    'user-turn': 'thinking',
    'reply-started': 'assistant-speaking',
  },
  thinking: {
    'user-started': 'user-speaking',
    'reply-started': 'assistant-speaking',
    'reply-done': 'listening',
    interrupted: 'user-speaking',
    'user-turn': 'thinking',
  },
  'assistant-speaking': {
    'reply-done': 'listening',
    interrupted: 'user-speaking',
    'user-turn': 'thinking',
  },
};

export class TurnMachine {
  private current: TurnState = 'listening';
  /** Every change, for debugging and tests: [from, event, to]. Bounded. */
  readonly history: [TurnState, TurnEvent, TurnState][] = [];

  get state(): TurnState {
    return this.current;
  }

  /** Returns true when the event changed the state. */
  apply(event: TurnEvent): boolean {
    const next = table[this.current][event];
    if (!next || next === this.current) return false;
    if (this.history.length >= 200) this.history.shift();
    this.history.push([this.current, event, next]);
    this.current = next;
    return true;
  }
}
