/**
 * A realistic sample of each event type, for `POST /v1/assistants/:id/test-webhook` (the
 * "send test event" button). The call id has the contract's form (`WC-<uuid v4>`), so receivers
 * that validate ids accept it; `call.metadata.test: true` tells them it is a test.
 */
import { randomUUID } from 'node:crypto';
import type { AssistantSpec, EventType } from '../contract/assistant-schema.js';
import type { Call } from '../contract/call-schema.js';
import type { ConversationMessage } from '../contract/conversation-schema.js';
import type { CallContext, EventSpec } from './events/build-event.js';

export function sampleContext(
  teamId: string,
  assistant: AssistantSpec & { _id: string },
  type: EventType,
): CallContext {
  const now = Date.now();
  const start = now - 42_000;
  const ended = type === 'end-of-call-report';
  const call: Call = {
    id: `WC-${randomUUID()}`,
    teamId,
    assistantId: assistant._id,
    callType: 'web',
    direction: 'inbound',
    startAt: new Date(start).toISOString(),
    ...(ended ? { endAt: new Date(now).toISOString() } : {}),
    userNumber: 'web-test',
    assistantNumber: '',
    status: ended ? 'finished' : 'ongoing',
    phoneCallStatus: ended ? 'completed' : 'in-progress',
    phoneCallStatusReason: ended ? 'Customer hung up' : 'Call is in progress',
    callEndTriggerBy: ended ? 'user' : '',
    assistantCallDuration: ended ? now - start : 0,
    analysis: ended ? { summary: 'The caller booked an appointment for Tuesday at 10 am.' } : {},
    recording: {},
    assistantOverrides: {},
    metadata: { test: true },
  };
  const messages: ConversationMessage[] = [
    {
      messageId: 'welcome-1',
      role: 'assistant',
      text: assistant.welcomeMessage,
      timestamp: start + 300,
      metrics: {
        timeline: { totalElapsedTimeMs: 300, offsetFromPreviousTurnMs: 300 },
        tts: { audioDurationMs: 2100, generationTimeMs: 95, queueLatencyMs: 2, isCachePlaying: false },
        llm: {},
      },
    },
    {
      messageId: 'user-1',
      role: 'user',
      text: 'I would like to book an appointment for Tuesday.',
      timestamp: start + 5200,
      metrics: {
        timeline: { totalElapsedTimeMs: 5200, offsetFromPreviousTurnMs: 4900 },
        audio: { totalAudioReceivedMs: 5200, audioDelayPerTurnMs: 12, delayedPacketsPerTurnCount: 0 },
        stt: {
          timestampMs: start + 5200,
          startOffsetMs: 2600,
          endOffsetMs: 4500,
          confidence: 0.91,
          vadMs: 1900,
        },
      },
    },
  ];
  return { call, assistant, messages, phoneProvider: '' };
}

export function sampleSpec(type: EventType): EventSpec {
  switch (type) {
    case 'error':
      return {
        type,
        error: {
          type: 'llm_error',
          code: 'rate_limited',
          message: 'This is a test error event',
          provider: 'openai',
          retryable: true,
        },
      };
    case 'end-of-call-report':
      return {
        type,
        report: {
          analysis: { summary: 'The caller booked an appointment for Tuesday at 10 am.' },
          durationSeconds: 42,
          summary: 'The caller booked an appointment for Tuesday at 10 am.',
          endedReason: 'customer-ended-call',
        },
      };
    case 'tool-calls':
      return {
        type,
        toolCallList: [
          {
            id: 'call_test_1',
            type: 'function',
            function: { name: 'bookAppointment', arguments: { day: 'tuesday', time: '10:00' } },
          },
        ],
      };
    default:
      return { type };
  }
}
