/**
 * The state of one call that its parts share (call-session.ts wires them): the Call and its one
 * `phase`, the conversation, the turn machine, the timers, the event stream, the transport and
 * the speech queue once connected. The parts reach each other through `CallActions`.
 *
 * Phases: `waiting` (queued or ringing, no media yet) → `live` (connected) → `ending` (the end
 * sequence runs: a goodbye may still play) → `ended` (the terminal status is out; nothing more
 * is heard or said; the report may still be in the making). Phases only move forward.
 */
import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { Call, CallEndTrigger } from '../contract/call-schema.js';
import { UsageMeter } from '../cost/usage.js';
import type { LlmProvider } from '../llm/llm.js';
import type { Clock } from '../shared/clock.js';
import type { InputLimits } from '../shared/input-limits.js';
import type { HangUpCause, Transport, TransportHello } from '../transports/transport.js';
import { CallEventStream } from './call-events.js';
import { CallTimers } from './call-timers.js';
import { Conversation } from './conversation.js';
import type { NotConnected } from './ended-reason.js';
import type { EngineTiming } from './providers.js';
import type { ResolvedSpeechConfig } from './speech-config.js';
import type { SpeechOutput } from './speech-output.js';
import { TurnMachine } from './turn-state.js';
import type { SttFinal } from './user-input.js';

export type ResolvedAssistant = AssistantSpec & { _id: string; createdAt?: string; updatedAt?: string };

export type CallPhase = 'waiting' | 'live' | 'ending' | 'ended';

export interface HangUp {
  trigger: Exclude<CallEndTrigger, ''>;
  /** Human-readable (`phoneCallStatusReason`). */
  reason: string;
  /** Machine-readable (`endedReason`); derived from the rest when absent (ended-reason.ts). */
  endedReason?: string;
  /** Say this before hanging up (when the caller is still there). */
  say?: string;
  error?: boolean;
  forwardTo?: string;
  /** The medium transferred the caller already: the line is not hung up. */
  transferred?: boolean;
  /** For a call that never connected: how it ended. */
  notConnected?: NotConnected;
  /** How the transport ends the connection (default `completed`). */
  cause?: HangUpCause;
}

/** What the parts of a call ask of each other. */
export interface CallActions {
  /** Ends the call (idempotent: later calls get the first one's promise). */
  hangUp(h: HangUp): Promise<Call>;
  /** A user turn: the message is stored and reported, and a reply starts. */
  commitUser(text: string, stt?: { final: SttFinal; vadMs: number }): void;
  /** Barge-in: the reply stops, unplayed speech is dropped. */
  interrupt(): void;
  /** (Re)starts the idle timer. */
  armIdle(): void;
  /** Ends the call when `more` characters (one more user turn when `turn`) pass a per-call limit. */
  overLimit(more: number, turn: boolean): boolean;
}

type TimerName = 'idle' | 'hang' | 'max' | 'dtmf';

export class CallState {
  phase: CallPhase = 'waiting';
  call: Call;
  readonly conversation: Conversation;
  readonly turn = new TurnMachine();
  readonly timers: CallTimers<TimerName>;
  readonly events = new CallEventStream();
  /** LLM tokens, TTS characters and audio minutes, for `call.cost`. */
  readonly meter = new UsageMeter();
  /** Aborted when the call ends here: control requests (transfer, DTMF) in flight stop. */
  readonly abort = new AbortController();
  transport: Transport | undefined;
  hello: TransportHello | undefined;
  connectedAt: number | undefined;
  llm: LlmProvider | undefined;
  speech: SpeechOutput | undefined;
  reply: { abort: AbortController } | undefined;
  /** A transfer is under way to this destination (user turns are stored, not answered). */
  transferringTo: string | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    call: Call,
    readonly assistant: ResolvedAssistant,
    readonly speechConfig: ResolvedSpeechConfig,
    readonly timing: EngineTiming,
    readonly limits: InputLimits,
    readonly clock: Clock,
    /** `phone.provider.name` until a transport names it ("" for web calls). */
    private readonly defaultPhoneProvider = '',
  ) {
    this.call = call;
    this.conversation = new Conversation(Date.parse(call.startAt));
    this.timers = new CallTimers<TimerName>(clock);
  }

  /** Live and not ending: the conversation goes on. */
  get live(): boolean {
    return this.phase === 'live';
  }

  /** `phone.provider.name`: the carrier's name, "" for web calls. */
  get phoneProvider(): string {
    return this.transport?.providerName || this.defaultPhoneProvider;
  }

  /** Moves the phase forward (never back). */
  advance(to: CallPhase): void {
    const order: CallPhase[] = ['waiting', 'live', 'ending', 'ended'];
    if (order.indexOf(to) > order.indexOf(this.phase)) this.phase = to;
  }

  /** Resolves when nothing is queued or playing, or after `timeoutMs`. */
  speechIdle(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.speech?.busy) {
        resolve();
        return;
      }
      const timer = this.clock.setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  /** The speech queue emptied: wake whoever waits for it. */
  wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `u` has played, at most `timeoutMs`. */
  async played(finished: Promise<unknown>, timeoutMs: number): Promise<void> {
    let timer: { cancel(): void } | undefined;
    await Promise.race([
      finished,
      new Promise<void>((resolve) => {
        timer = this.clock.setTimeout(resolve, timeoutMs);
      }),
    ]);
    timer?.cancel();
  }
}
