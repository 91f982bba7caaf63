/**
 * The call's control requests through the transport's control half: `transferCall` (speak the
 * destination's message, wait until it has played, then transfer where the medium can; a
 * failure keeps the caller, says so and records an `error`) and the `dtmf` tool's digits.
 */
import type { Call } from '../contract/call-schema.js';
import { ProviderError } from '../shared/provider-error.js';
import type { ControlResult } from '../transports/transport.js';
import type { ToolCallResult } from './call-event-sink.js';
import type { CallActions, CallState } from './call-state.js';
import type { TransferOutcome } from './responder.js';
import { transferDestination } from './tools.js';

/** Said to the caller when a transfer fails; the conversation then goes on. */
export const TRANSFER_FAILED_MESSAGE = "I'm sorry, I couldn't transfer your call. Let's continue.";

export interface CallControlDeps {
  state: CallState;
  actions: Pick<CallActions, 'hangUp'>;
  reportError(error: ProviderError): void;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class CallControl {
  constructor(private readonly d: CallControlDeps) {}

  async transfer(
    target: { number: string; message?: string },
    signal: AbortSignal,
  ): Promise<TransferOutcome> {
    const s = this.d.state;
    const transport = s.transport;
    if (!transport?.capabilities.transfer || !transport.transfer) return { type: 'unsupported' };
    const destination = transferDestination(target.number);
    if (!destination)
      return this.failed(target.number, `"${target.number}" is neither an E.164 number nor a sip: URI`);
    s.transferringTo = target.number;
    try {
      await s.speechIdle(s.timing.goodbyeTimeoutMs);
      if (target.message && s.speech && s.live) {
        const message = s.speech.say(s.conversation.assistantMessageId(s.clock.now()), target.message, {
          interruptible: false,
          meta: { system: true, endsCall: true },
        });
        await s.played(message.finished, s.timing.goodbyeTimeoutMs);
      }
      if (!s.live || signal.aborted) return { type: 'failed', error: 'the call ended before the transfer' };
      let result: ControlResult;
      try {
        result = await transport.transfer(destination, s.abort.signal);
      } catch (error) {
        result = { ok: false, error: errorText(error) };
      }
      if (result.ok) {
        void this.transferred(target.number);
        return { type: 'transferred' };
      }
      if (!s.live) return { type: 'failed', error: result.error };
      return this.failed(target.number, result.error);
    } finally {
      s.transferringTo = undefined;
    }
  }

  /** The medium has the caller now (its transfer succeeded, or its media stopped as `transferred`). */
  transferred(to: string): Promise<Call> {
    return this.d.actions.hangUp({
      trigger: 'bot',
      reason: `Forwarded to ${to}`,
      forwardTo: to,
      transferred: true,
      endedReason: 'assistant-forwarded-call',
    });
  }

  /** The `dtmf` tool: digits to the far end where the medium can send them. Never throws. */
  async sendDtmf(digits: string, signal: AbortSignal): Promise<ToolCallResult> {
    const s = this.d.state;
    const transport = s.transport;
    if (!transport?.capabilities.dtmf || !transport.sendDtmf)
      return { ok: false, error: 'DTMF is not available on this call' };
    let result: ControlResult;
    try {
      result = await transport.sendDtmf(digits, AbortSignal.any([signal, s.abort.signal]));
    } catch (error) {
      result = { ok: false, error: errorText(error) };
    }
    return result.ok ? { ok: true, result: `sent ${digits}` } : { ok: false, error: result.error };
  }

  private failed(to: string, error: string): TransferOutcome {
    const s = this.d.state;
    this.d.reportError(
      new ProviderError({
        type: 'tool_error',
        code: 'transfer_failed',
        message: `transfer to ${to} failed: ${error}`,
        provider: s.phoneProvider || 'transport',
        retryable: false,
      }),
    );
    s.speech?.say(s.conversation.assistantMessageId(s.clock.now()), TRANSFER_FAILED_MESSAGE, {
      interruptible: s.assistant.bargeInEnabled,
      meta: { system: true },
    });
    return { type: 'failed', error };
  }
}
