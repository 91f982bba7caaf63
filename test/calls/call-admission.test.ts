import { describe, expect, it } from 'vitest';
import { CallService } from '../../src/calls/call-service.js';
import { endRequestFor } from '../../src/calls/phone-status.js';
import type { Call } from '../../src/contract/call-schema.js';
import type { Db } from '../../src/db/database.js';
import { Pacer } from '../../src/engine/pacer.js';
import { fakeProviders } from '../../src/testing/fake-providers.js';
import { FakeTransport } from '../../src/testing/fake-transport.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { RecordingSink } from '../../src/testing/recording-sink.js';

/** Admission through the port, in one process without a database (the rows are captured). */
function service(clock: ManualClock) {
  const sink = new RecordingSink(undefined, () => clock.now());
  const rows: { call: Call; carriage: Record<string, unknown> }[] = [];
  const calls = new CallService({
    db: undefined as unknown as Db,
    insertCall: async (call, carriage) => {
      rows.push({ call: structuredClone(call), carriage: { ...carriage } });
    },
    sink,
    providers: fakeProviders({ clock }),
    publicUrl: 'https://parley.example.com',
    clock,
    pacer: new Pacer(clock),
    joinTokenTtlMs: 30_000,
  });
  return { calls, sink, rows };
}

const UUID_V4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
const number = { id: 'num_1', number: '+15550100' };

describe('call admission', () => {
  it('admits an inbound phone call with its numbers, channel and carrier id; its events name the carrier', async () => {
    const clock = new ManualClock();
    const { calls, sink, rows } = service(clock);
    const admission = await calls.admission.admit({
      teamId: 'team1',
      channel: 'twilio',
      direction: 'inbound',
      customer: { number: '+15550199' },
      phoneNumber: number,
      assistant: { assistant: { name: 'phone' } },
      metadata: { campaign: 'x' },
      carrierCallId: 'CA123',
    });
    expect(admission.kind).toBe('admitted');
    if (admission.kind !== 'admitted') return;
    expect(admission.call.id).toMatch(new RegExp(`^PC-${UUID_V4}$`));
    expect(admission.call).toMatchObject({
      callType: 'phone',
      direction: 'inbound',
      userNumber: '+15550199',
      assistantNumber: '+15550100',
      status: 'queued',
      phoneCallStatus: 'ringing',
      metadata: { campaign: 'x' },
    });
    expect(rows[0]?.carriage).toEqual({ channel: 'twilio', carrierCallId: 'CA123', phoneNumberId: 'num_1' });
    expect(admission.mediaExpiresAt).toBe(clock.now() + 30_000);
    await sink.waitFor(() => sink.types(admission.call.id).length === 1);
    const queued = sink.forCall(admission.call.id)[0];
    expect(queued?.phone.provider.name).toBe('twilio');
    expect(queued?.customer.number).toBe('+15550199');

    // The media token: bound to its call, single use.
    const other = await calls.admission.admit({
      teamId: 'team1',
      channel: 'web',
      direction: 'inbound',
      customer: { name: 'ada' },
      assistant: { assistant: { name: 'web' } },
    });
    if (other.kind !== 'admitted') throw new Error('not admitted');
    expect(other.call.id).toMatch(new RegExp(`^WC-${UUID_V4}$`));
    expect(other.call.callType).toBe('web');
    expect(await calls.admission.acceptMedia(admission.call.id, other.mediaToken)).toMatchObject({
      ok: false,
      code: 'bad_token',
    });
    expect(await calls.admission.acceptMedia(admission.call.id, undefined)).toMatchObject({ ok: false });
    const accepted = await calls.admission.acceptMedia(admission.call.id, admission.mediaToken);
    expect(accepted.ok).toBe(true);
    if (accepted.ok) accepted.attach(new FakeTransport(clock));
    expect(await calls.admission.acceptMedia(admission.call.id, admission.mediaToken)).toMatchObject({
      ok: false,
      code: 'bad_token',
    });
    await calls.close();
  });

  it('an expired media token is refused and the call ends no-answer; outbound calls wait longer', async () => {
    const clock = new ManualClock();
    const { calls, sink } = service(clock);
    const inbound = await calls.admission.admit({
      teamId: 'team1',
      channel: 'telnyx',
      direction: 'inbound',
      customer: { number: '+15550199' },
      phoneNumber: number,
      assistant: { assistant: { name: 'phone' } },
    });
    const outbound = await calls.admission.admit({
      teamId: 'team1',
      channel: 'telnyx',
      direction: 'outbound',
      customer: { number: '+15550142' },
      phoneNumber: number,
      assistant: { assistant: { name: 'phone' } },
    });
    if (inbound.kind !== 'admitted' || outbound.kind !== 'admitted') throw new Error('not admitted');
    expect(outbound.call).toMatchObject({
      direction: 'outbound',
      userNumber: '+15550142',
      phoneCallStatus: 'queued',
    });
    expect(outbound.mediaExpiresAt - inbound.mediaExpiresAt).toBe(150_000);
    await clock.advance(30_000);
    expect(await calls.admission.acceptMedia(inbound.call.id, inbound.mediaToken)).toMatchObject({
      ok: false,
      code: 'bad_token',
    });
    await sink.waitFor(() => sink.types(inbound.call.id).includes('end-of-call-report'));
    expect(sink.forCall(inbound.call.id).at(-2)?.call).toMatchObject({
      status: 'finished',
      phoneCallStatus: 'no-answer',
    });
    // The outbound call still waits for its media.
    expect(calls.session(outbound.call.id)?.call.status).toBe('queued');
    expect((await calls.admission.acceptMedia(outbound.call.id, outbound.mediaToken)).ok).toBe(true);
    await calls.close();
  });

  it('a busy status callback ends an unanswered outbound call once, with the carrier named', async () => {
    const clock = new ManualClock();
    const { calls, sink } = service(clock);
    const outbound = await calls.admission.admit({
      teamId: 'team1',
      channel: 'plivo',
      direction: 'outbound',
      customer: { number: '+15550142' },
      phoneNumber: number,
      assistant: { assistant: { name: 'phone' } },
    });
    if (outbound.kind !== 'admitted') throw new Error('not admitted');
    const id = outbound.call.id;
    await calls.phoneStatus.report(id, { status: 'ringing', detail: 'ringing' });
    await calls.phoneStatus.report(id, { status: 'busy', detail: 'busy' });
    await sink.waitFor(() => sink.types(id).includes('end-of-call-report'));
    const events = sink.forCall(id);
    const terminal = events.filter((e) => e.type === 'status-update' && e.call.status === 'finished');
    expect(terminal).toHaveLength(1);
    expect(terminal[0]?.call).toMatchObject({ phoneCallStatus: 'busy', callEndTriggerBy: 'system' });
    expect(terminal[0]?.phone.provider.name).toBe('plivo');
    expect(events.filter((e) => e.type === 'end-of-call-report')).toHaveLength(1);
    await calls.close();
  });

  it('maps carrier statuses to how the call ends', () => {
    const queued = { status: 'queued' } as Call;
    const ongoing = { status: 'ongoing' } as Call;
    expect(endRequestFor(queued, { status: 'ringing', detail: '' })).toBeUndefined();
    expect(endRequestFor(ongoing, { status: 'in-progress', detail: '' })).toBeUndefined();
    expect(endRequestFor(queued, { status: 'no-answer', detail: 'timeout' })).toMatchObject({
      notConnected: 'no-answer',
      reason: 'Customer did not answer (timeout)',
    });
    expect(endRequestFor(queued, { status: 'failed', detail: '', sipCode: 404 })?.reason).toBe(
      'The call failed (SIP 404)',
    );
    expect(endRequestFor(queued, { status: 'canceled', detail: '' })?.notConnected).toBe('canceled');
    expect(endRequestFor(ongoing, { status: 'completed', detail: '' })).toEqual({
      reason: 'Customer hung up',
      trigger: 'user',
    });
    expect(endRequestFor(queued, { status: 'completed', detail: '' })?.notConnected).toBe('failed');
  });
});
