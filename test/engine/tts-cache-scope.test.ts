import { describe, expect, it } from 'vitest';
import { CallService } from '../../src/calls/call-service.js';
import type { AssistantCreate } from '../../src/contract/assistant-schema.js';
import type { Db } from '../../src/db/database.js';
import { Pacer } from '../../src/engine/pacer.js';
import type { EngineProviders } from '../../src/engine/providers.js';
import { FallbackTts } from '../../src/providers/fallback/fallback-tts.js';
import type { ProviderSource } from '../../src/providers/provider-catalog.js';
import { ProviderError } from '../../src/shared/provider-error.js';
import { FakeTts, fakeProviders } from '../../src/testing/fake-providers.js';
import { FakeTransport } from '../../src/testing/fake-transport.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { RecordingSink } from '../../src/testing/recording-sink.js';

/** Issue 11 item 6: the shared TTS cache never crosses teams, models, or a fallback's voice. */
function service(clock: ManualClock, providers: ProviderSource) {
  return new CallService({
    db: undefined as unknown as Db,
    insertCall: async () => {},
    sink: new RecordingSink(undefined, () => clock.now()),
    providers,
    publicUrl: 'https://parley.example.com/',
    clock,
    pacer: new Pacer(clock),
  });
}

/** Runs a call until its welcome message is spoken; returns that message's TTS metrics. */
async function welcome(calls: CallService, clock: ManualClock, team: string, assistant: AssistantCreate) {
  // Offline analysis: the fake LLM runs on the manual clock, which stops once the call is done.
  const analysis = { assistantAnalysis: { summary: { provider: 'scripted' as const } } };
  const { call, join } = await calls.createWebCall(team, { assistant: { ...analysis, ...assistant } });
  const joined = await calls.join(call.id, join.token);
  if (!joined.ok) throw new Error(joined.reason);
  const transport = new FakeTransport(clock);
  joined.session.attach(transport);
  transport.hello();
  await clock.until(() => joined.session.messages.length === 1);
  transport.disconnect();
  await joined.session.done;
  return joined.session.messages[0]?.metrics.tts;
}

describe('TTS cache scope', () => {
  it('a team is never played audio another team synthesised (own provider asked, isCachePlaying false)', async () => {
    const clock = new ManualClock();
    const perTeam = new Map<string, EngineProviders & { fakeTts: FakeTts }>();
    const calls = service(clock, {
      forTeam: async (team) => {
        const p = perTeam.get(team) ?? fakeProviders({ clock });
        perTeam.set(team, p);
        return p;
      },
    });
    const a1 = await welcome(calls, clock, 'team-a', { name: 'x' });
    const a2 = await welcome(calls, clock, 'team-a', { name: 'x' });
    const b1 = await welcome(calls, clock, 'team-b', { name: 'x' });
    expect([a1?.isCachePlaying, a2?.isCachePlaying, b1?.isCachePlaying]).toEqual([false, true, false]);
    expect(perTeam.get('team-a')?.fakeTts.texts).toHaveLength(1);
    expect(perTeam.get('team-b')?.fakeTts.texts).toHaveLength(1);
    await calls.close();
  });

  it('the TTS model is part of the key', async () => {
    const clock = new ManualClock();
    const providers = fakeProviders({ clock });
    const calls = service(clock, { forTeam: async () => providers });
    const speech = (model: string): AssistantCreate => ({
      name: 'x',
      config: { speech: { tts: { provider: 'flite', model } } },
    });
    expect((await welcome(calls, clock, 't', speech('m1')))?.isCachePlaying).toBe(false);
    expect((await welcome(calls, clock, 't', speech('m2')))?.isCachePlaying).toBe(false);
    expect((await welcome(calls, clock, 't', speech('m2')))?.isCachePlaying).toBe(true);
    expect(providers.fakeTts.texts).toHaveLength(2);
    await calls.close();
  });

  it("a fallback's audio (primary down) is never cached under the primary", async () => {
    const clock = new ManualClock();
    const outage = new ProviderError({
      type: 'tts_error',
      code: 'http_503',
      message: 'primary down',
      provider: 'fake-tts',
      retryable: true,
    });
    const down = new FakeTts({ clock, fail: outage });
    const healthy = new FakeTts({ clock });
    const fallback = new FakeTts({ clock });
    let primary: FakeTts = down;
    const base = fakeProviders({ clock });
    const calls = service(clock, {
      forTeam: async () => ({
        ...base,
        tts: (_assistant, report) =>
          new FallbackTts(
            primary,
            { name: 'fake-fallback', synthesize: (t, o, s) => fallback.synthesize(t, o, s) },
            {},
            report ?? (() => {}),
          ),
      }),
    });
    const first = await welcome(calls, clock, 't', { name: 'x' });
    expect(first?.isCachePlaying).toBe(false);
    expect(fallback.texts).toHaveLength(1);
    primary = healthy;
    const second = await welcome(calls, clock, 't', { name: 'x' });
    expect(second?.isCachePlaying).toBe(false);
    expect(healthy.texts).toHaveLength(1);
    // What the primary itself made is cached as usual.
    expect((await welcome(calls, clock, 't', { name: 'x' }))?.isCachePlaying).toBe(true);
    await calls.close();
  });
});
