import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, LlmChunk, LlmProvider, LlmRequest, LlmToolDefinition } from '../../src/llm/llm.js';
import { ProviderError } from '../../src/shared/provider-error.js';
import type { LlmFake } from '../../src/testing/provider-fakes/sse.js';

/**
 * The conformance suite every LLM provider registers against, in its own file
 * `test/conformance/llm-<provider>.test.ts`:
 *
 *   // over a protocol fake: exact assertions, faults
 *   describeLlmConformance('openai', async () => {
 *     const fake = await startOpenAiFake();
 *     return fakeLlmTarget(fake, {
 *       provider: createOpenAiLlm({ apiKey: fake.apiKey, baseUrl: fake.baseUrl, timeoutMs: 2500 }),
 *       model: 'gpt-4o-mini', timeoutMs: 2500,
 *       contextLengthExceeded: () => fake.failWithStatus(400, { code: 'context_length_exceeded' }) });
 *   });
 *   // no controllable backend (a local model, the scripted dialog): weaker cases, faults skipped
 *   describeLlmConformance('local', async () => ({ provider, model: 'tiny.gguf', supportsTools: true, close }));
 *
 * A target with a controllable backend (a protocol fake) gives `script` and `faults`, and the
 * suite asserts exact behaviour (the text pieces it scripted arrive as separate chunks, the
 * wire request carried temperature/max tokens/system/tool schema, faults map to the right
 * `ProviderError`). A target without one (a local model, the scripted dialog) leaves them out:
 * the cases then assert weaker but still meaningful properties (some text and a usage chunk,
 * a tool call if it supports tools, abort stops quietly) and the fault cases are skipped with
 * the reason in their name.
 */
export interface LlmConformanceTarget {
  provider: LlmProvider;
  /** The model name put in every request. */
  model: string;
  /** Whether the provider turns `request.tools` into `tool-call` chunks. */
  supportsTools: boolean;
  /**
   * The provider's configured stall deadline (ms): the longest it waits for the first chunk or
   * the next one before failing with a retryable `timeout`. Set it short in tests (2500: much
   * shorter lets a cold first request on a busy machine trip it). Needed for the stall case.
   */
  timeoutMs?: number;
  /**
   * Messages for targets without `script`: `text` must make the provider answer with some
   * text; `toolCall` (with `tools` from the suite, when `supportsTools`) must make it call a
   * tool. Defaults: a short user greeting / a request to use the `get_weather` tool.
   */
  prompts?: { text?: ChatMessage[]; toolCall?: ChatMessage[] };
  /** Fault injection; each call arms the backend for its NEXT request only. */
  faults?: LlmConformanceFaults;
  /** Control over the backend's answers and a view of what it received. */
  script?: LlmConformanceScript;
  /**
   * Without `script`: the fewest text chunks the text prompt must produce (a provider that
   * streams token by token can ask for 2 or more). Default 1.
   */
  minTextChunks?: number;
  /**
   * Size (characters) of the over-long user message. Default 1 000 000. A provider answers it
   * normally or throws a non-retryable `llm_error` ProviderError (code `invalid_request`).
   */
  overlongInputChars?: number;
  /** Releases the backend (fake servers, loaded models). */
  close(): Promise<void>;
}

export interface LlmConformanceFaults {
  /** Next request: HTTP 500 (or the protocol's equivalent). Expect a retryable `llm_error`. */
  serverError(): void;
  /** Next request: HTTP 429 with `Retry-After`. Expect retryable code `rate_limited`. */
  rateLimit(): void;
  /** Next request: HTTP 401. Expect non-retryable code `unauthorized`. */
  unauthorized(): void;
  /** Next request: a few chunks, then the socket is destroyed. Expect retryable. */
  disconnectMidStream(): void;
  /** Next request: headers (or nothing) and then silence. Expect retryable code `timeout`. */
  stall(): void;
  /** Next request: HTTP 400 "context length exceeded". Expect non-retryable `invalid_request`. */
  contextLengthExceeded?(): void;
  /** Next request: a few chunks, then the protocol's in-stream error event (a 5xx). Expect retryable. */
  errorMidStream?(): void;
}

/** What the backend answers to the next request. */
export interface ConformanceReply {
  /** Text, sent as these separate pieces (each becomes one wire chunk). */
  text?: string[];
  /** Pause between pieces (ms). */
  pieceDelayMs?: number;
  /** Pieces after the first wait for this promise (to observe streaming). */
  holdAfterFirst?: Promise<void>;
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
  usage?: { inputTokens: number; outputTokens: number };
}

/** A backend's view of one request, normalised from its wire format. */
export interface ObservedRequest {
  model?: string;
  system?: string;
  temperature?: number;
  maxTokens?: number;
  tools: { name: string; description?: string; parameters?: unknown }[];
  /** Number of non-system messages on the wire. */
  messageCount: number;
  /** Resolves when the response ended: sent completely, or the client closed the connection first. */
  ended: Promise<'completed' | 'client-closed'>;
}

export interface LlmConformanceScript {
  /** Queue the answer to the next request. */
  reply(reply: ConformanceReply): void;
  /** Requests received so far (oldest first). */
  requests(): ObservedRequest[];
  /** Resolves when the backend receives its next request. */
  nextRequest(): Promise<ObservedRequest>;
}

const weatherTool: LlmToolDefinition = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', description: 'City name' } },
    required: ['city'],
    additionalProperties: false,
  },
};

export interface LlmOutcome {
  chunks: LlmChunk[];
  error: unknown;
}

/** Runs one chat to its end; the error (if any) is returned, not thrown. */
export async function collectLlm(
  provider: LlmProvider,
  request: LlmRequest,
  signal: AbortSignal = new AbortController().signal,
  onChunk?: (chunk: LlmChunk, index: number) => void,
): Promise<LlmOutcome> {
  const chunks: LlmChunk[] = [];
  try {
    for await (const chunk of provider.chat(request, signal)) {
      chunks.push(chunk);
      onChunk?.(chunk, chunks.length - 1);
    }
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

function texts(chunks: LlmChunk[]): string[] {
  return chunks.flatMap((c) => (c.type === 'text' ? [c.text] : []));
}

function expectProviderError(
  error: unknown,
  provider: string,
  expected: { retryable: boolean; code?: string | string[] },
): ProviderError {
  expect(error, 'expected a ProviderError').toBeInstanceOf(ProviderError);
  const e = error as ProviderError;
  expect(e.type).toBe('llm_error');
  expect(e.provider).toBe(provider);
  expect(e.retryable, `retryable of ${e.code}: ${e.message}`).toBe(expected.retryable);
  if (typeof expected.code === 'string') expect(e.code).toBe(expected.code);
  else if (expected.code) expect(expected.code).toContain(e.code);
  expect(e.message.length).toBeGreaterThan(0);
  return e;
}

function isQuietAbort(error: unknown): boolean {
  return error === undefined || (error instanceof Error && error.name === 'AbortError');
}

export function describeLlmConformance(name: string, setup: () => Promise<LlmConformanceTarget>): void {
  describe(`LLM conformance: ${name}`, () => {
    let t: LlmConformanceTarget;
    // Capabilities are known only after setup, so cases check them at run time and skip with
    // the reason (`ctx.skip(reason)`).
    beforeAll(async () => {
      t = await setup();
    });
    afterAll(async () => {
      await t?.close();
    });

    const request = (messages: ChatMessage[], extra: Partial<LlmRequest> = {}): LlmRequest => ({
      model: t.model,
      messages,
      ...extra,
    });
    const textPrompt = (): ChatMessage[] =>
      t.prompts?.text ?? [
        { role: 'system', content: 'You are a helpful assistant. Answer in one short sentence.' },
        { role: 'user', content: 'Say hello.' },
      ];
    const toolPrompt = (): ChatMessage[] =>
      t.prompts?.toolCall ?? [
        { role: 'system', content: 'Use the get_weather tool to answer questions about weather.' },
        { role: 'user', content: 'What is the weather in Paris? Use the tool.' },
      ];

    it('streams text: several chunks, the first before the stream ends, then usage', async () => {
      if (!t.script) {
        const { chunks, error } = await collectLlm(t.provider, request(textPrompt(), { maxTokens: 64 }));
        expect(error).toBeUndefined();
        expect(texts(chunks).join('').trim().length).toBeGreaterThan(0);
        expect(texts(chunks).length).toBeGreaterThanOrEqual(t.minTextChunks ?? 1);
        expect(chunks.some((c) => c.type === 'usage')).toBe(true);
        return;
      }
      let release!: () => void;
      const hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      // A buffering adapter would wait for the rest forever; release it after a while so the
      // case fails on the assertion below rather than on the test timeout.
      const fallback = setTimeout(release, 5000);
      let firstWhileHeld: boolean | undefined;
      let held = true;
      void hold.then(() => {
        held = false;
      });
      const pieces = ['Hello', ' there', ', my', ' friend', '.'];
      t.script.reply({ text: pieces, holdAfterFirst: hold, usage: { inputTokens: 12, outputTokens: 5 } });
      const { chunks, error } = await collectLlm(t.provider, request(textPrompt()), undefined, (chunk) => {
        if (chunk.type === 'text' && firstWhileHeld === undefined) {
          firstWhileHeld = held;
          release();
        }
      });
      clearTimeout(fallback);
      expect(firstWhileHeld, 'the first text chunk must arrive before the rest is sent').toBe(true);
      expect(error).toBeUndefined();
      expect(texts(chunks).length).toBeGreaterThanOrEqual(2);
      expect(texts(chunks).join('')).toBe(pieces.join(''));
      // usage comes last, after the text
      const usageAt = chunks.findIndex((c) => c.type === 'usage');
      expect(usageAt).toBe(chunks.length - 1);
    });

    it('reports usage with input and output tokens', async () => {
      if (t.script)
        t.script.reply({ text: ['Fine', ' thanks'], usage: { inputTokens: 42, outputTokens: 7 } });
      const { chunks, error } = await collectLlm(t.provider, request(textPrompt(), { maxTokens: 32 }));
      expect(error).toBeUndefined();
      const usage = chunks.filter((c) => c.type === 'usage');
      expect(usage).toHaveLength(1);
      const u = usage[0] as Extract<LlmChunk, { type: 'usage' }>;
      expect(Number.isInteger(u.inputTokens) && u.inputTokens >= 0).toBe(true);
      expect(Number.isInteger(u.outputTokens) && u.outputTokens >= 0).toBe(true);
      if (t.script)
        expect({ input: u.inputTokens, output: u.outputTokens }).toEqual({ input: 42, output: 7 });
    });

    it('returns tool calls with an id and parsed object arguments', async (ctx) => {
      if (!t.supportsTools) ctx.skip('provider does not support tools');
      t.script?.reply({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
      const { chunks, error } = await collectLlm(t.provider, request(toolPrompt(), { tools: [weatherTool] }));
      expect(error).toBeUndefined();
      const calls = chunks.flatMap((c) => (c.type === 'tool-call' ? [c.call] : []));
      expect(calls.length).toBeGreaterThanOrEqual(1);
      const call = calls[0]!;
      expect(call.name).toBe('get_weather');
      expect(typeof call.id).toBe('string');
      expect(call.id.length).toBeGreaterThan(0);
      expect(typeof call.arguments).toBe('object');
      expect(Array.isArray(call.arguments)).toBe(false);
      if (t.script) expect(call.arguments).toEqual({ city: 'Paris' });
      else expect(typeof call.arguments.city).toBe('string');
    });

    it('sends a tool call and its result back in the history', async (ctx) => {
      if (!t.supportsTools) ctx.skip('provider does not support tools');
      if (!t.script) ctx.skip('needs a scripted backend to answer a fixed history');
      t.script!.reply({ text: ['It is sunny', ' in Paris.'] });
      const { chunks, error } = await collectLlm(
        t.provider,
        request(
          [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Weather in Paris?' },
            {
              role: 'assistant',
              content: '',
              toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }],
            },
            { role: 'tool', toolCallId: 'call_1', name: 'get_weather', content: '{"sky":"sunny"}' },
          ],
          { tools: [weatherTool] },
        ),
      );
      expect(error).toBeUndefined();
      expect(texts(chunks).join('')).toBe('It is sunny in Paris.');
      const seen = t.script!.requests().at(-1)!;
      expect(seen.system).toBe('Be brief.');
      expect(seen.messageCount).toBeGreaterThanOrEqual(3);
    });

    it('passes temperature, max tokens, system prompt and tool schemas to the backend', async (ctx) => {
      if (!t.script) ctx.skip('needs a backend that records requests');
      const script = t.script!;
      script.reply({ text: ['ok'] });
      const tools = t.supportsTools ? [weatherTool] : undefined;
      const { error } = await collectLlm(
        t.provider,
        request(
          [
            { role: 'system', content: 'You are Parley, be concise.' },
            { role: 'user', content: 'Hi' },
          ],
          { temperature: 0.3, maxTokens: 77, tools },
        ),
      );
      expect(error).toBeUndefined();
      const seen = script.requests().at(-1)!;
      expect(seen.model).toBe(t.model);
      expect(seen.temperature).toBeCloseTo(0.3);
      expect(seen.maxTokens).toBe(77);
      expect(seen.system).toBe('You are Parley, be concise.');
      if (tools) {
        expect(seen.tools).toHaveLength(1);
        const tool = seen.tools[0]!;
        expect(tool.name).toBe('get_weather');
        expect(tool.description).toBe(weatherTool.description);
        expect(tool.parameters).toMatchObject({
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        });
      }
    });

    it('stops promptly and quietly when aborted mid-stream, closing the connection', async () => {
      const controller = new AbortController();
      const before = t.script?.requests().length ?? 0;
      t.script?.reply({
        text: Array.from({ length: 200 }, (_, i) => `word${i} `),
        pieceDelayMs: 50, // 10 s in all, far beyond what this case waits
      });
      let firstAt = -1;
      const outcome = await collectLlm(t.provider, request(textPrompt()), controller.signal, (chunk, i) => {
        if (chunk.type === 'text' && firstAt < 0) {
          firstAt = i;
          controller.abort();
        }
      });
      expect(isQuietAbort(outcome.error), `no ProviderError on abort, got ${String(outcome.error)}`).toBe(
        true,
      );
      expect(firstAt).toBeGreaterThanOrEqual(0);
      if (t.script) {
        // It stopped long before the 200 pieces (so: promptly), and the backend saw the close.
        expect(texts(outcome.chunks).length).toBeLessThan(100);
        const seen = t.script.requests()[before];
        expect(seen).toBeDefined();
        await expect(seen!.ended).resolves.toBe('client-closed');
      }
    });

    it('stops quietly when aborted while waiting for the first token', async (ctx) => {
      if (!t.faults || !t.script) ctx.skip('needs a backend that can stall');
      t.faults!.stall();
      const arrived = t.script!.nextRequest();
      const controller = new AbortController();
      const outcome = collectLlm(t.provider, request(textPrompt()), controller.signal);
      const seen = await arrived;
      controller.abort();
      const { chunks, error } = await outcome;
      expect(isQuietAbort(error), `no ProviderError on abort, got ${String(error)}`).toBe(true);
      expect(texts(chunks)).toEqual([]);
      await expect(seen.ended).resolves.toBe('client-closed');
    });

    it('does nothing (and throws no ProviderError) when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      const before = t.script?.requests().length ?? 0;
      const outcome = await collectLlm(t.provider, request(textPrompt()), controller.signal);
      expect(isQuietAbort(outcome.error)).toBe(true);
      expect(texts(outcome.chunks)).toEqual([]);
      if (t.script) expect(t.script.requests().length).toBe(before);
    });

    it('rejects an empty message list as a non-retryable invalid_request, without a request', async () => {
      const before = t.script?.requests().length ?? 0;
      const { error } = await collectLlm(t.provider, request([]));
      expectProviderError(error, t.provider.name, { retryable: false, code: 'invalid_request' });
      if (t.script) expect(t.script.requests().length).toBe(before);
    });

    it('answers an over-long input normally or with a non-retryable invalid_request', async () => {
      t.faults?.contextLengthExceeded?.();
      const huge = 'blah '.repeat(Math.ceil((t.overlongInputChars ?? 1_000_000) / 5));
      const { chunks, error } = await collectLlm(t.provider, request([{ role: 'user', content: huge }]));
      if (t.faults?.contextLengthExceeded) {
        expectProviderError(error, t.provider.name, { retryable: false, code: 'invalid_request' });
        return;
      }
      if (error) expectProviderError(error, t.provider.name, { retryable: false, code: 'invalid_request' });
      else expect(chunks.some((c) => c.type === 'usage')).toBe(true);
    });

    it('maps a 5xx to a retryable llm_error', async (ctx) => {
      if (!t.faults) ctx.skip('no controllable backend (cannot make it fail with 5xx)');
      const before = t.script?.requests().length ?? 0;
      t.faults!.serverError();
      const { error } = await collectLlm(t.provider, request(textPrompt()));
      expectProviderError(error, t.provider.name, { retryable: true, code: 'server_error' });
      // Exactly one attempt: retries and fallbacks are Parley's, not the SDK's.
      if (t.script) expect(t.script.requests().length).toBe(before + 1);
    });

    it('maps a 429 to a retryable rate_limited', async (ctx) => {
      if (!t.faults) ctx.skip('no controllable backend (a local model cannot be rate-limited)');
      const before = t.script?.requests().length ?? 0;
      t.faults!.rateLimit();
      const { error } = await collectLlm(t.provider, request(textPrompt()));
      expectProviderError(error, t.provider.name, { retryable: true, code: 'rate_limited' });
      if (t.script) expect(t.script.requests().length).toBe(before + 1);
    });

    it('maps a 401 to a non-retryable unauthorized', async (ctx) => {
      if (!t.faults) ctx.skip('no controllable backend (no credentials to reject)');
      t.faults!.unauthorized();
      const { error } = await collectLlm(t.provider, request(textPrompt()));
      expectProviderError(error, t.provider.name, { retryable: false, code: 'unauthorized' });
    });

    it('maps a disconnect mid-stream to a retryable llm_error', async (ctx) => {
      if (!t.faults) ctx.skip('no controllable backend (no connection to cut)');
      t.faults!.disconnectMidStream();
      const { chunks, error } = await collectLlm(t.provider, request(textPrompt()));
      expectProviderError(error, t.provider.name, { retryable: true, code: 'connection_lost' });
      // The cut came after some text had been streamed: the error is not lost in the middle.
      if (t.script) expect(texts(chunks).length).toBeGreaterThanOrEqual(1);
      expect(chunks.some((c) => c.type === 'usage')).toBe(false);
    });

    it('maps an error event in the middle of a stream to a retryable llm_error', async (ctx) => {
      if (!t.faults?.errorMidStream) ctx.skip('backend cannot send an error event mid-stream');
      t.faults!.errorMidStream!();
      const { chunks, error } = await collectLlm(t.provider, request(textPrompt()));
      expectProviderError(error, t.provider.name, { retryable: true, code: 'server_error' });
      expect(texts(chunks).length).toBeGreaterThanOrEqual(1);
    });

    it('turns a stalled backend into a retryable timeout within its deadline', async (ctx) => {
      if (!t.faults) ctx.skip('no controllable backend (cannot stall it)');
      if (t.timeoutMs === undefined) ctx.skip('target does not state its timeoutMs');
      t.faults!.stall();
      const started = Date.now();
      const { error } = await collectLlm(t.provider, request(textPrompt()));
      expectProviderError(error, t.provider.name, { retryable: true, code: 'timeout' });
      // Not a timing assertion on a noisy machine: only that it did wait for its deadline.
      expect(Date.now() - started).toBeGreaterThanOrEqual(t.timeoutMs! - 50);
    });

    it('still works after the faults (no poisoned state)', async () => {
      t.script?.reply({ text: ['Back', ' again'] });
      const { chunks, error } = await collectLlm(t.provider, request(textPrompt(), { maxTokens: 32 }));
      expect(error).toBeUndefined();
      expect(texts(chunks).join('').length).toBeGreaterThan(0);
    });
  });
}

/**
 * A target over one of the protocol fakes in `src/testing/provider-fakes/` (OpenAI, Anthropic,
 * Gemini): faults and script map onto the fake's controls.
 */
export function fakeLlmTarget(
  fake: LlmFake,
  o: {
    provider: LlmProvider;
    model: string;
    timeoutMs: number;
    /** Arms the provider's own "bad key" answer. Default: HTTP 401. */
    unauthorized?: () => void;
    /** Arms the provider's "context too long" answer. */
    contextLengthExceeded: () => void;
    /** Arms the provider's 5xx. Default: HTTP 500. */
    serverError?: () => void;
    /** Status of the in-stream error event. Default 500. */
    midStreamErrorStatus?: number;
  },
): LlmConformanceTarget {
  return {
    provider: o.provider,
    model: o.model,
    supportsTools: true,
    timeoutMs: o.timeoutMs,
    faults: {
      serverError: o.serverError ?? (() => fake.failWithStatus(500)),
      rateLimit: () => fake.failWithStatus(429, { retryAfterSeconds: 2 }),
      unauthorized: o.unauthorized ?? (() => fake.failWithStatus(401)),
      disconnectMidStream: () => fake.disconnectMidStream(2),
      stall: () => fake.stall(),
      contextLengthExceeded: o.contextLengthExceeded,
      errorMidStream: () => fake.errorMidStream(o.midStreamErrorStatus ?? 500),
    },
    script: {
      reply: (reply) => fake.reply(reply),
      requests: () => fake.requests.map((r) => ({ ...r.observed, ended: r.ended })),
      nextRequest: async () => {
        const r = await fake.nextRequest();
        return { ...r.observed, ended: r.ended };
      },
    },
    close: () => fake.close(),
  };
}
