import type { Call } from '../../src/contract/call-schema.js';
import { newWebCall } from '../../src/engine/call-lifecycle.js';
import { newWebCallId } from '../../src/shared/ids.js';

export function sampleCall(overrides: Partial<Call> & { teamId: string; assistantId: string }): Call {
  const call = newWebCall({
    id: newWebCallId(),
    teamId: overrides.teamId,
    assistantId: overrides.assistantId,
    userNumber: 'web-test',
    now: Date.now(),
  });
  return { ...call, ...overrides };
}
