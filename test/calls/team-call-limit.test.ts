import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSY_MESSAGE, liveCallCount } from '../../src/calls/team-call-limit.js';
import { ApiError } from '../../src/shared/api-error.js';
import { setTeamCallLimit } from '../../src/tenancy/team-settings.js';
import { fakeProviders } from '../../src/testing/fake-providers.js';
import { api, type CallServer, startCallServer } from './support.js';

/** A team's limit of concurrent calls, counted in the database (PGlite, or PostgreSQL with its URL). */
let cs: CallServer;
let assistantId: string;
let teamId: string;

beforeAll(async () => {
  cs = await startCallServer(fakeProviders());
  const created = await api(cs, 'POST', '/v1/assistants', { name: 'limits', welcomeMessage: 'Hi' });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  assistantId = created.json._id;
  teamId = created.json.teamId ?? (await api(cs, 'GET', '/v1/team')).json.id;
});
afterAll(() => cs?.close());

const db = () => cs.server.database.db;
const createCall = () => api(cs, 'POST', '/v1/calls', { assistantId });

describe('per-team concurrency limit', () => {
  it('is set by the operator, shown to the team read-only, and enforced: 429 naming the limit, a slot again once a call ends', async () => {
    expect(await setTeamCallLimit(db(), 'no such team', 3)).toBeUndefined();
    expect(await setTeamCallLimit(db(), 'calls', 2)).toMatchObject({ id: teamId, maxConcurrentCalls: 2 });
    const team = await api(cs, 'GET', '/v1/team');
    expect(team.json.settings.maxConcurrentCalls).toBe(2);
    // The team cannot raise its own limit.
    const patched = await api(cs, 'PATCH', '/v1/team', { maxConcurrentCalls: 100 });
    expect(patched.status).toBe(400);
    expect(patched.json.error.field).toBe('maxConcurrentCalls');
    // Other settings still merge, and keep the limit.
    const other = await api(cs, 'PATCH', '/v1/team', { defaultAssistantId: assistantId });
    expect(other.status, JSON.stringify(other.json)).toBe(200);
    expect(other.json.settings.maxConcurrentCalls).toBe(2);

    const first = await createCall();
    const second = await createCall();
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await createCall();
    expect(third.status).toBe(429);
    expect(third.json.error.code).toBe('concurrency_limit');
    expect(third.json.error.message).toContain('limit of 2 concurrent calls');
    expect(await liveCallCount(db(), teamId)).toBe(2);

    const ended = await api(cs, 'POST', `/v1/calls/${first.json.id}/end`);
    expect(ended.status).toBe(200);
    await cs.calls.session(first.json.id)?.done;
    const fourth = await createCall();
    expect(fourth.status, JSON.stringify(fourth.json)).toBe(201);

    // Removed: unlimited again.
    await setTeamCallLimit(db(), 'calls', null);
    expect((await api(cs, 'GET', '/v1/team')).json.settings.maxConcurrentCalls).toBeUndefined();
    expect((await createCall()).status).toBe(201);
    await Promise.all(cs.calls.liveCallIds().map((id) => cs.calls.end(teamId, id)));
  });

  it('admissions racing for the last slot: exactly one wins', async () => {
    await setTeamCallLimit(db(), 'calls', 3);
    const held = await Promise.all([createCall(), createCall()]);
    expect(held.map((r) => r.status)).toEqual([201, 201]);
    const racing = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        cs.calls.admission.admit({
          teamId,
          channel: 'web',
          direction: 'inbound',
          customer: {},
          assistant: { assistantId },
        }),
      ),
    );
    const won = racing.filter((r) => r.status === 'fulfilled');
    const lost = racing.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(5);
    for (const error of lost) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).statusCode).toBe(429);
    }
    expect(await liveCallCount(db(), teamId)).toBe(3);
    await Promise.all(cs.calls.liveCallIds().map((id) => cs.calls.end(teamId, id)));
  });

  it('an inbound phone call over the limit is refused with a spoken busy message and ends busy; an outbound one is a 429', async () => {
    await setTeamCallLimit(db(), 'calls', 1);
    expect((await createCall()).status).toBe(201);
    const inbound = await cs.calls.admission.admit({
      teamId,
      channel: 'twilio',
      direction: 'inbound',
      customer: { number: '+15550199' },
      phoneNumber: { id: 'num_1', number: '+15550100' },
      assistant: { assistantId },
      carrierCallId: 'CA-busy',
    });
    expect(inbound.kind).toBe('refused');
    if (inbound.kind !== 'refused') return;
    expect(inbound.say).toBe(BUSY_MESSAGE);
    const done = await cs.calls.session(inbound.call.id)?.done;
    expect(done).toMatchObject({ status: 'finished', phoneCallStatus: 'busy' });
    await expect(
      cs.calls.admission.admit({
        teamId,
        channel: 'twilio',
        direction: 'outbound',
        customer: { number: '+15550199' },
        phoneNumber: { id: 'num_1', number: '+15550100' },
        assistant: { assistantId },
      }),
    ).rejects.toMatchObject({ statusCode: 429, code: 'concurrency_limit' });
    // The refused call does not hold a slot: only the web call is live.
    expect(await liveCallCount(db(), teamId)).toBe(1);
    await Promise.all(cs.calls.liveCallIds().map((id) => cs.calls.end(teamId, id)));
    await setTeamCallLimit(db(), 'calls', null);
  });
});
