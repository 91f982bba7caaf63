/**
 * One typed stream of what happens on a call (the pattern of livekit agents' `voice/events.ts`).
 * The session emits each happening once; subscribers translate it: the webhook reporter into
 * contract events (`reportEvents`), the client mapper into transport messages (`clientEvents`),
 * metering into usage. Listeners run synchronously in subscription order, so a subscriber sees
 * the call's state exactly as it was when the happening was emitted.
 */
import type { Call } from '../contract/call-schema.js';
import type { ConversationMessage } from '../contract/conversation-schema.js';
import type { ProviderError } from '../shared/provider-error.js';
import type { Transport } from '../transports/transport.js';
import type { EndOfCallReport } from './call-event-sink.js';
import type { CallReporter } from './call-reporter.js';

export type CallEvent =
  /** The call's lifecycle moved (queued, ringing, ongoing, a terminal status). */
  | { type: 'status-changed'; call: Call }
  /** An interim transcript of the caller's current utterance. */
  | { type: 'user-partial'; text: string }
  /** A user turn was committed (speech, typed text or keypad digits). */
  | { type: 'user-message'; message: ConversationMessage }
  /** An assistant message ended: played (in full or cut off) and stored. */
  | { type: 'assistant-message'; message: ConversationMessage }
  /** A provider, tool or control request failed; the call may go on. */
  | { type: 'error'; error: ProviderError }
  /** Client input was refused without failing the call (`audio_too_fast`, `say_not_allowed`). */
  | { type: 'input-refused'; code: string; message: string }
  /** No reply started within the hang timeout after the user's turn. */
  | { type: 'hang' }
  /** Analysis, cost and statistics are done: the last happening of the call. */
  | { type: 'ended'; call: Call; report: EndOfCallReport };

export type CallEventListener = (event: CallEvent) => void;

export class CallEventStream {
  private readonly listeners: CallEventListener[] = [];

  /** Adds a listener; returns its removal. */
  on(listener: CallEventListener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  emit(event: CallEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** The webhook contract's events, recorded in order through the reporter. */
export function reportEvents(stream: CallEventStream, reporter: CallReporter): () => void {
  return stream.on((event) => {
    switch (event.type) {
      case 'status-changed':
        void reporter.record({ type: 'status-update' });
        return;
      case 'user-message':
      case 'assistant-message':
        void reporter.record({ type: 'conversation-update' });
        return;
      case 'error':
        void reporter.record({ type: 'error', error: event.error.toEventError() });
        return;
      case 'hang':
        void reporter.record({ type: 'hang' });
        return;
      case 'ended':
        void reporter.record({ type: 'end-of-call-report', report: event.report });
        return;
      default:
        return;
    }
  });
}

/** The client's messages (web: status, transcripts, assistant text, metrics, errors). */
export function clientEvents(stream: CallEventStream, transport: Transport): () => void {
  return stream.on((event) => {
    switch (event.type) {
      case 'status-changed': {
        const { call } = event;
        transport.send({
          type: 'status',
          status: call.status,
          phoneCallStatus: call.phoneCallStatus,
          reason: call.phoneCallStatusReason,
          callEndTriggerBy: call.callEndTriggerBy,
        });
        return;
      }
      case 'user-partial':
        transport.send({ type: 'transcript', final: false, text: event.text });
        return;
      case 'user-message': {
        const { messageId, text, metrics } = event.message;
        transport.send({ type: 'transcript', final: true, text, messageId });
        transport.send({ type: 'metrics', messageId, role: 'user', metrics });
        return;
      }
      case 'assistant-message': {
        const { messageId, text, metrics, interrupted } = event.message;
        transport.send({
          type: 'assistant-text',
          messageId,
          text,
          final: true,
          ...(interrupted ? { interrupted: true } : {}),
        });
        transport.send({ type: 'metrics', messageId, role: 'assistant', metrics });
        return;
      }
      case 'error':
        transport.send({
          type: 'error',
          code: `${event.error.type}:${event.error.code}`,
          message: event.error.message,
        });
        return;
      case 'input-refused':
        transport.send({ type: 'error', code: event.code, message: event.message });
        return;
      default:
        return;
    }
  });
}
