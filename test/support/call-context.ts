import { withDefaults } from '../../src/assistants/assistant-defaults.js';
import type { AssistantCreate } from '../../src/contract/assistant-schema.js';
import type { CallContext, EventSpec } from '../../src/webhooks/events/build-event.js';
import { sampleCall } from './samples.js';

/** A call's state as the engine would hold it, for driving the webhook engine directly. */
export function callContext(
  teamId: string,
  assistant: Partial<AssistantCreate>,
  assistantId = 'a'.repeat(24),
): CallContext {
  const spec = withDefaults({ name: 'hooks', ...assistant });
  return {
    call: sampleCall({ teamId, assistantId }),
    assistant: { ...spec, _id: assistantId },
    messages: [],
    phoneProvider: '',
  };
}

/** The lifecycle of a short call, as events in contract order, mutating `ctx` as a call would. */
export function lifecycle(ctx: CallContext): Array<() => EventSpec[]> {
  return [
    () => [{ type: 'status-update' }],
    () => {
      Object.assign(ctx.call, {
        status: 'ongoing',
        phoneCallStatus: 'in-progress',
        phoneCallStatusReason: 'Call is in progress',
      });
      return [{ type: 'status-update' }];
    },
    () => {
      ctx.messages = [
        ...ctx.messages,
        {
          messageId: 'welcome-1',
          role: 'assistant',
          text: 'Hello!',
          timestamp: Date.now(),
          metrics: { llm: {} },
        },
      ];
      return [{ type: 'conversation-update' }];
    },
    () => {
      Object.assign(ctx.call, {
        status: 'finished',
        phoneCallStatus: 'completed',
        phoneCallStatusReason: 'Customer hung up',
        callEndTriggerBy: 'user',
        endAt: new Date().toISOString(),
        assistantCallDuration: 1234,
      });
      return [{ type: 'status-update' }];
    },
    () => [
      {
        type: 'end-of-call-report',
        report: { analysis: {}, durationSeconds: 1, summary: '', endedReason: 'customer-ended-call' },
      },
    ],
  ];
}
