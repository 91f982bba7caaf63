import type { AssistantCreate, AssistantPatch, AssistantSpec } from '../contract/assistant-schema.js';
import { EVENT_TYPES } from '../contract/assistant-schema.js';

/** `{"name": "x"}` becomes this: a complete assistant that can take a call. */
export const assistantDefaults = {
  welcomeMessage: 'Hello! How can I help you today?',
  welcomeMessageMode: 'automatic',
  welcomeMessageInterruptionsEnabled: false,
  endCallMessage: 'Thank you for calling. Goodbye!',
  endCallPhrases: ['goodbye'],
  bargeInEnabled: true,
  clientSayEnabled: false,
  assistantProvider: 'openai',
  assistantModel: 'gpt-4o-mini',
  assistantSystemPrompt: 'You are a helpful voice assistant. Keep your replies short and conversational.',
  assistantTemperature: 0.7,
  assistantMaxTokens: 250,
  assistantAnalysis: {
    summary: { enabled: true },
    successEvaluation: { enabled: false, rubric: 'pass-fail' },
    structuredData: { enabled: false },
  },
  assistantServer: {
    enabled: true,
    messages: [...EVENT_TYPES],
    timeoutSeconds: 20,
    headers: {},
    format: 'interactly',
  },
  config: {
    speech: {
      stt: { provider: 'pocketsphinx', language: 'en-US', endpointingMs: 500 },
      tts: { provider: 'flite', voice: 'kal16' },
    },
  },
  tools: [],
  maxDurationSeconds: 600,
  idleTimeoutSeconds: 10,
  idleMessage: 'Are you still there?',
  recordingEnabled: true,
  recordingStereo: false,
} as const satisfies Omit<AssistantSpec, 'name'>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * JSON merge (RFC 7396): objects merge key by key, arrays and scalars replace, `null` removes
 * the key (the schemas accept `null` only where removing makes sense, e.g. fallbacks). Used both
 * to apply defaults and to apply a PATCH to a stored assistant.
 */
export function mergeDeep<T>(base: T, patch: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(patch)) return (patch === undefined ? base : patch) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? mergeDeep(out[key], value) : value;
  }
  return out as T;
}

export function withDefaults(input: AssistantCreate): AssistantSpec {
  const spec = mergeDeep(structuredClone(assistantDefaults) as unknown as AssistantSpec, input);
  // The default voice is flite's: another TTS provider gets its own default voice, not "kal16".
  const tts = spec.config.speech?.tts;
  if (tts && tts.provider !== 'flite' && input.config?.speech?.tts?.voice === undefined) delete tts.voice;
  return spec;
}

export const REDACTED = '[redacted]';

/**
 * A PATCH may send back what GET returned: header values of "[redacted]" mean "keep the stored
 * value", so round-tripping an assistant never overwrites its secrets.
 */
export function applyPatch(stored: AssistantSpec, patch: AssistantPatch): AssistantSpec {
  const next = mergeDeep(stored, patch);
  const keep = (
    incoming: Record<string, string> | undefined,
    current: Record<string, string> | undefined,
  ) => {
    if (!incoming) return;
    for (const [name, value] of Object.entries(incoming)) {
      if (value === REDACTED && current?.[name] !== undefined) incoming[name] = current[name];
    }
  };
  keep(next.assistantServer.headers, stored.assistantServer.headers);
  for (const tool of next.tools) {
    if (tool.type !== 'function' || !tool.server) continue;
    const before = stored.tools.find((t) => t.type === 'function' && t.name === tool.name);
    const beforeServer = before?.type === 'function' ? before.server : undefined;
    keep(tool.server.headers, beforeServer?.headers);
    if (tool.server.secret === undefined && beforeServer?.secret !== undefined)
      tool.server.secret = beforeServer.secret;
  }
  return next;
}

function redactServer(server: unknown): unknown {
  if (!isPlainObject(server)) return server;
  const { secret: _secret, ...rest } = server;
  if (isPlainObject(rest.headers))
    rest.headers = Object.fromEntries(Object.keys(rest.headers).map((k) => [k, REDACTED]));
  return rest;
}

/**
 * Secrets never leave the server: `assistantServer.secret` and tool servers' `secret` are
 * dropped, their header values become "[redacted]". Works on any assistant-shaped object (a
 * stored spec, a call's `assistantOverrides`, validated or not); the input is not modified.
 */
export function redactSecrets<T>(fields: T): T {
  if (!isPlainObject(fields)) return fields;
  const copy: Record<string, unknown> = structuredClone(fields);
  if ('assistantServer' in copy) copy.assistantServer = redactServer(copy.assistantServer);
  if (Array.isArray(copy.tools)) {
    copy.tools = copy.tools.map((tool: unknown) =>
      isPlainObject(tool) && 'server' in tool ? { ...tool, server: redactServer(tool.server) } : tool,
    );
  }
  return copy as T;
}

/** A stored assistant as the API and webhooks show it (see `redactSecrets`). */
export function redactSpec<T extends AssistantSpec>(spec: T): T {
  const copy = redactSecrets(spec);
  copy.assistantServer.headers ??= {};
  return copy;
}
