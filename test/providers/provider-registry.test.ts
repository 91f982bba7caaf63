// One registry for cloud and offline providers (src/providers/provider-registry.ts): the
// offline-only set and the per-team catalog resolve names through it alike.
import { beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/assistants/assistant-defaults.js';
import type { AssistantSpec } from '../../src/contract/assistant-schema.js';
import { createLocalProviders, type LocalProviders } from '../../src/providers/local-providers.js';
import { createProviderCatalog } from '../../src/providers/provider-catalog.js';
import { llmRegistry, sttRegistry, ttsRegistry } from '../../src/providers/provider-registry.js';
import { ProviderError } from '../../src/shared/provider-error.js';

const assistant = (speech: { stt?: string; tts?: string }, llm = 'scripted'): AssistantSpec => {
  const spec = withDefaults({
    name: 'registry',
    dialog: { start: 'a', nodes: { a: { say: 'Hi.', end: true } } },
  });
  return {
    ...spec,
    assistantProvider: llm as AssistantSpec['assistantProvider'],
    config: {
      ...spec.config,
      speech: {
        ...spec.config.speech,
        ...(speech.stt ? { stt: { provider: speech.stt } } : {}),
        ...(speech.tts ? { tts: { provider: speech.tts } } : {}),
      },
    },
  } as AssistantSpec;
};

const providerErrorOf = (f: () => unknown): ProviderError => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error('expected a ProviderError');
};

describe('the provider registry', () => {
  let local: LocalProviders;
  beforeAll(async () => {
    local = await createLocalProviders();
  }, 60_000);

  it('lists cloud and built-in providers in one place, and probes each built-in one once', () => {
    expect(Object.keys(llmRegistry)).toEqual(expect.arrayContaining(['scripted', 'openai', 'local']));
    expect(Object.keys(sttRegistry)).toEqual(
      expect.arrayContaining(['pocketsphinx', 'deepgram', 'sherpa-onnx']),
    );
    expect(Object.keys(ttsRegistry)).toEqual(
      expect.arrayContaining(['flite', 'espeak', 'espeak-ng', 'cartesia']),
    );
    expect(Object.keys(local.status).sort()).toEqual(['espeak', 'flite', 'pocketsphinx', 'webrtcVad']);
    expect(ttsRegistry.espeak).toBe(ttsRegistry['espeak-ng']);
  });

  it('offline: built-in providers only; a cloud one or an unknown one is a provider error', () => {
    expect(local.llm(assistant({})).constructor.name).toBe('ScriptedLlm');
    if (local.status.flite === 'ok') expect(local.tts(assistant({ tts: 'flite' })).name).toBe('flite');
    const cloud = providerErrorOf(() => local.tts(assistant({ tts: 'cartesia' })));
    expect(cloud).toMatchObject({ type: 'tts_error', code: 'provider_unavailable', provider: 'cartesia' });
    expect(cloud.message).toMatch(/offline/);
    const unknown = providerErrorOf(() => local.stt(assistant({ stt: 'nonesuch' })));
    expect(unknown).toMatchObject({ type: 'stt_error', code: 'provider_unavailable', provider: 'nonesuch' });
    expect(unknown.message).toMatch(/unknown STT provider \(built in: pocketsphinx\)/);
    expect(providerErrorOf(() => local.llm(assistant({}, 'openai')))).toMatchObject({ type: 'llm_error' });
  });

  it('per team: a cloud provider without a key is `missing_credentials`; built-in ones come from the probes', async () => {
    const catalog = createProviderCatalog({ local, modelsDir: '/nonexistent', env: {} });
    const team = await catalog.forTeam('team_1');
    expect(providerErrorOf(() => team.tts(assistant({ tts: 'elevenlabs' })))).toMatchObject({
      type: 'tts_error',
      code: 'missing_credentials',
      provider: 'elevenlabs',
    });
    if (local.status.espeak === 'ok') {
      // One probed instance behind both names (bound to no model: the instance itself).
      expect(team.tts(assistant({ tts: 'espeak-ng' }))).toBe(team.tts(assistant({ tts: 'espeak' })));
    }
    const withKey = await createProviderCatalog({
      local,
      modelsDir: '/nonexistent',
      env: { ELEVENLABS_API_KEY: 'k' },
    }).forTeam('team_1');
    expect(withKey.tts(assistant({ tts: 'elevenlabs' })).name).toBe('elevenlabs');
  });
});
