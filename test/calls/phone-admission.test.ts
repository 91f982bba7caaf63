import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APOLOGY } from '../../src/assistants/assistant-resolution.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import type { OutboundCallRequest } from '../../src/transports/ports.js';
import { api, type CallServer, startCallServer } from './support.js';

/** Phone calls admitted through the port on a real server and its database. */
let cs: CallServer;
let assistantId: string;
let teamId: string;

beforeAll(async () => {
  cs = await startCallServer(
    fakeProviders({ llm: new FakeLlm({ firstTokenMs: 1, tokenMs: 1 }), tts: { firstChunkMs: 1 } }),
  );
  assistantId = (await api(cs, 'POST', '/v1/assistants', { name: 'phone' })).json._id;
  const row = await cs.server.database.db
    .selectFrom('assistants')
    .select('team_id')
    .where('id', '=', assistantId)
    .executeTakeFirstOrThrow();
  teamId = row.team_id;
});
afterAll(async () => {
  await cs?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary event fields
async function events(callId: string): Promise<any[]> {
  return (await api(cs, 'GET', `/v1/calls/${callId}/events`)).json.data.map(
    (e: { event: unknown }) => e.event,
  );
}

async function reported(callId: string) {
  await expect
    .poll(async () => (await events(callId)).some((e) => e.type === 'end-of-call-report'), {
      timeout: 10_000,
    })
    .toBe(true);
  return events(callId);
}

describe('phone call admission', () => {
  it("stores the channel, the carrier's id and the number; finds the call by the carrier's id", async () => {
    const admission = await cs.calls.admission.admit({
      teamId,
      channel: 'twilio',
      direction: 'inbound',
      customer: { number: '+15550199' },
      phoneNumber: { id: 'num_a', number: '+15550100', assistantId },
      assistant: {},
      carrierCallId: 'CA-inbound-1',
    });
    expect(admission.kind).toBe('admitted');
    if (admission.kind !== 'admitted') return;
    expect(admission.call.assistantId).toBe(assistantId);
    const row = await cs.server.database.db
      .selectFrom('calls')
      .select(['channel', 'carrier_call_id', 'phone_number_id'])
      .where('id', '=', admission.call.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ channel: 'twilio', carrier_call_id: 'CA-inbound-1', phone_number_id: 'num_a' });
    expect(await cs.calls.admission.findByCarrierId('twilio', 'CA-inbound-1')).toMatchObject({
      call: { id: admission.call.id, callType: 'phone' },
      phoneNumberId: 'num_a',
    });
    expect(await cs.calls.admission.findByCarrierId('telnyx', 'CA-inbound-1')).toBeUndefined();

    // The media never came: the caller hung up before the stream started.
    await cs.calls.phoneStatus.report(admission.call.id, { status: 'canceled', detail: 'canceled' });
    const all = await reported(admission.call.id);
    expect(all.map((e) => e.type)).toEqual(['status-update', 'status-update', 'end-of-call-report']);
    expect(all[0].call.phoneCallStatus).toBe('ringing');
    expect(all[1].call.phoneCallStatus).toBe('canceled');
    expect(all.every((e) => e.phone.provider.name === 'twilio')).toBe(true);
  });

  it('an outbound call gets its carrier id later; racing status callbacks give one terminal status', async () => {
    const admission = await cs.calls.admission.admit({
      teamId,
      channel: 'vonage',
      direction: 'outbound',
      customer: { number: '+15550142' },
      phoneNumber: { id: 'num_b', number: '+15550101' },
      assistant: { assistantId },
    });
    if (admission.kind !== 'admitted') throw new Error('not admitted');
    const id = admission.call.id;
    await cs.calls.admission.setCarrierCallId(id, 'uuid-outbound-1');
    expect((await cs.calls.admission.findByCarrierId('vonage', 'uuid-outbound-1'))?.call.id).toBe(id);
    await Promise.all([
      cs.calls.phoneStatus.report(id, { status: 'no-answer', detail: 'unanswered' }),
      cs.calls.phoneStatus.report(id, { status: 'busy', detail: 'busy' }),
      cs.calls.phoneStatus.report(id, { status: 'completed', detail: 'completed' }),
    ]);
    const all = await reported(id);
    const terminal = all.filter((e) => e.type === 'status-update' && e.call.status !== 'queued');
    expect(terminal).toHaveLength(1);
    expect(terminal[0].call.phoneCallStatus).toBe('no-answer');
    expect(terminal[0].phone.provider.name).toBe('vonage');
    expect(all.filter((e) => e.type === 'end-of-call-report')).toHaveLength(1);
    await cs.calls.phoneStatus.report(id, { status: 'completed', detail: 'completed' });
    expect(await events(id)).toHaveLength(all.length);
  });

  it('refuses a phone call no assistant can take: stored and ended, one terminal status and one report', async () => {
    const fallback = { type: 'number' as const, number: '+15550177' };
    const refused = await cs.calls.admission.admit({
      teamId,
      channel: 'telnyx',
      direction: 'inbound',
      customer: { number: '+15550199' },
      phoneNumber: { id: 'num_c', number: '+15550102', fallbackDestination: fallback },
      assistant: {},
    });
    expect(refused).toMatchObject({ kind: 'refused', say: APOLOGY, forwardTo: fallback });
    const all = await reported(refused.call.id);
    expect(all.map((e) => e.type)).toEqual(['status-update', 'status-update', 'end-of-call-report']);
    expect(all[1].call).toMatchObject({
      status: 'finished',
      phoneCallStatus: 'failed',
      callEndTriggerBy: 'system',
    });
    expect(all[1].call.phoneCallStatusReason).toMatch(/^assistant-request: /);
    expect(all[1].phone.provider.name).toBe('telnyx');
    expect(cs.calls.session(refused.call.id)).toBeUndefined();
  });
});

describe('POST /v1/calls for an outbound phone call', () => {
  it('validates the number, needs the phone entry point, and hands the call to it', async () => {
    const before = cs.calls.outbound;
    try {
      const missing = await api(cs, 'POST', '/v1/calls', { assistantId, phoneNumberId: 'num_1' });
      expect(missing.status).toBe(400);
      expect(missing.json.error.field).toBe('customer.number');
      const bad = await api(cs, 'POST', '/v1/calls', {
        assistantId,
        phoneNumberId: 'num_1',
        customer: { number: '555-0100' },
      });
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatchObject({ field: 'customer.number' });
      expect(bad.json.error.message).toMatch(/E\.164/);
      const empty = await api(cs, 'POST', '/v1/calls', {
        phoneNumberId: '',
        customer: { number: '+15550142' },
      });
      expect(empty.status).toBe(400);

      cs.calls.outbound = undefined;
      const unconfigured = await api(cs, 'POST', '/v1/calls', {
        assistantId,
        phoneNumberId: 'num_1',
        customer: { number: '+15550142' },
      });
      expect(unconfigured.status).toBe(400);
      expect(unconfigured.json.error).toMatchObject({
        message: 'phone calls are not configured',
        field: 'phoneNumberId',
      });

      const placed: OutboundCallRequest[] = [];
      cs.calls.outbound = {
        place: async (team, request) => {
          placed.push(request);
          const admission = await cs.calls.admission.admit({
            teamId: team,
            channel: 'twilio',
            direction: 'outbound',
            customer: request.customer,
            phoneNumber: { id: request.phoneNumberId, number: '+15550100' },
            assistant: { ...(request.assistantId ? { assistantId: request.assistantId } : {}) },
          });
          return { call: admission.call };
        },
      };
      const created = await api(cs, 'POST', '/v1/calls', {
        assistantId,
        phoneNumberId: 'num_1',
        customer: { number: '+15550142' },
        metadata: { lead: 7 },
      });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({
        callType: 'phone',
        direction: 'outbound',
        userNumber: '+15550142',
      });
      expect(created.json.join).toBeUndefined();
      expect(placed).toEqual([
        { assistantId, phoneNumberId: 'num_1', customer: { number: '+15550142' }, metadata: { lead: 7 } },
      ]);
      await cs.calls.end(teamId, created.json.id);
    } finally {
      cs.calls.outbound = before;
    }
  });
});
