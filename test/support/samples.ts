import type { Call } from '../../src/calls/call-schema.js';
import { newWebCallId } from '../../src/shared/ids.js';

export function sampleCall(overrides: Partial<Call> & { teamId: string; assistantId: string }): Call {
  return {
    id: newWebCallId(),
    callType: 'web',
    direction: 'inbound',
    startAt: new Date().toISOString(),
    userNumber: 'web-test',
    assistantNumber: '',
    status: 'queued',
    phoneCallStatus: 'queued',
    phoneCallStatusReason: 'Call is queued',
    callEndTriggerBy: '',
    assistantCallDuration: 0,
    analysis: {},
    recording: {},
    assistantOverrides: {},
    metadata: {},
    ...overrides,
  };
}
