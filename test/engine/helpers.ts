import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { analyzeCall } from '../../src/analysis/analysis.js';
import { withDefaults } from '../../src/assistants/assistant-defaults.js';
import type { AssistantCreate } from '../../src/contract/assistant-schema.js';
import { eventSchemas } from '../../src/contract/event-schemas.js';
import { newWebCall } from '../../src/engine/call-lifecycle.js';
import {
  type CallSession,
  createCallSession,
  type ResolvedAssistant,
} from '../../src/engine/call-session.js';
import { Pacer } from '../../src/engine/pacer.js';
import type { EngineProviders, EngineTiming } from '../../src/engine/providers.js';
import type { TtsCache } from '../../src/engine/tts-cache.js';
import type { Clock } from '../../src/shared/clock.js';
import { newWebCallId } from '../../src/shared/ids.js';
import { frames } from '../../src/testing/fake-providers.js';
import { FakeTransport } from '../../src/testing/fake-transport.js';
import type { ManualClock } from '../../src/testing/manual-clock.js';
import { RecordingSink } from '../../src/testing/recording-sink.js';

// biome-ignore lint/suspicious/noExplicitAny: ajv's CJS default export under NodeNext
const AjvClass = ((Ajv as any).default ?? Ajv) as typeof Ajv.default;
const ajv = new AjvClass({ strict: false, allErrors: true });
// biome-ignore lint/suspicious/noExplicitAny: same
((addFormats as any).default ?? addFormats)(ajv);
const validators = Object.fromEntries(Object.entries(eventSchemas).map(([t, s]) => [t, ajv.compile(s)]));

/** Schema errors of every event (empty when all are valid). */
export function schemaErrors(events: readonly { type: string }[]): string[] {
  const errors: string[] = [];
  for (const message of events) {
    const validate = validators[message.type];
    if (!validate) errors.push(`no schema for ${message.type}`);
    else if (!validate({ message })) errors.push(`${message.type}: ${ajv.errorsText(validate.errors)}`);
  }
  return errors;
}

export function assistantOf(input: Partial<AssistantCreate> = {}): ResolvedAssistant {
  // Post-call analysis offline by default: the fake LLM runs on the test's manual clock, and a
  // test that does not advance it after the call would wait for the summary forever.
  const offlineAnalysis = { summary: { provider: 'scripted' as const } };
  return {
    _id: '65f000000000000000000001',
    ...withDefaults({ name: 'test', assistantAnalysis: offlineAnalysis, ...input }),
  };
}

export interface Harness {
  session: CallSession;
  transport: FakeTransport;
  sink: RecordingSink;
  clock: Clock;
  types(): string[];
}

export function startSession(opts: {
  clock: Clock;
  providers: EngineProviders;
  assistant?: Partial<AssistantCreate>;
  timing?: Partial<EngineTiming>;
  sink?: RecordingSink;
  ackDelayMs?: number;
  ttsCache?: TtsCache;
  pacer?: Pacer;
}): Harness {
  const assistant = assistantOf(opts.assistant);
  const sink = opts.sink ?? new RecordingSink(undefined, () => opts.clock.now());
  const call = newWebCall({
    id: newWebCallId(),
    teamId: '65f0000000000000000000aa',
    assistantId: assistant._id,
    userNumber: 'web-test',
    now: opts.clock.now(),
  });
  const session = createCallSession({
    call,
    assistant,
    sink,
    providers: opts.providers,
    clock: opts.clock,
    pacer: opts.pacer ?? new Pacer(opts.clock),
    analyze: analyzeCall,
    ...(opts.timing ? { timing: opts.timing } : {}),
    ...(opts.ttsCache ? { ttsCache: opts.ttsCache } : {}),
  });
  const transport = new FakeTransport(opts.clock, opts.ackDelayMs ?? 0);
  session.attach(transport);
  return { session, transport, sink, clock: opts.clock, types: () => sink.types(call.id) };
}

/** The caller speaks for `speechMs`, then is silent for `silenceMs`, in real-time frames on the manual clock. */
export async function speak(
  h: { transport: FakeTransport; clock: ManualClock },
  speechMs: number,
  silenceMs = 700,
  sampleRate: 8000 | 16000 = 16000,
): Promise<void> {
  for (const frame of [
    ...frames('speech', speechMs, sampleRate),
    ...frames('silence', silenceMs, sampleRate),
  ]) {
    h.transport.audio(frame);
    await h.clock.advance(20);
  }
}

/** Silence frames for `ms` (keeps the audio stream going while waiting). */
export async function silence(
  h: { transport: FakeTransport; clock: ManualClock },
  ms: number,
): Promise<void> {
  await speak(h, 0, ms);
}
