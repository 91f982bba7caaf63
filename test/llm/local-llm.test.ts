import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, LlmChunk, LlmProvider, LlmRequest, LlmToolDefinition } from '../../src/llm/llm.js';
import { toChatHistory } from '../../src/llm/local/chat-history.js';
import { createLocalLlm, unloadLocalModels } from '../../src/llm/local/index.js';
import { toGrammarSchema } from '../../src/llm/local/json-schema.js';
import { loadModel, resolveModelPath } from '../../src/llm/local/model-store.js';
import { ProviderError } from '../../src/shared/provider-error.js';
import { writeTinyGguf } from '../../src/testing/gguf-writer.js';

// A random-weight model: its text is gibberish, but it loads, streams, and obeys grammars like
// a real one. One thread and a small context keep it fast on a shared 2-core machine.
let dir: string;
let modelsDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-local-llm-'));
  modelsDir = join(dir, 'models');
  await mkdir(join(modelsDir, 'sub'), { recursive: true });
  await writeTinyGguf(join(modelsDir, 'tiny.gguf'));
  // Steered to begin node-llama-cpp's generic tool-call syntax (`||call: name(params)`, the
  // syntax of a model without a known chat template) wherever it may.
  await writeTinyGguf(join(modelsDir, 'caller.gguf'), { favouredToken: '||call:' });
  await copyFile(join(modelsDir, 'tiny.gguf'), join(modelsDir, 'sub', 'copy.gguf'));
  await writeFile(join(modelsDir, 'broken.gguf'), 'this is not a GGUF file');
  await writeFile(join(dir, 'outside.gguf'), 'outside the models directory');
});

afterAll(async () => {
  await unloadLocalModels();
  await rm(dir, { recursive: true, force: true });
});

const base = (): { modelsDir: string; threads: number; contextSize: number } => ({
  modelsDir,
  threads: 1,
  contextSize: 512,
});

const hello: ChatMessage[] = [
  { role: 'system', content: 'You are brief.' },
  { role: 'user', content: 'hello' },
];

async function collect(
  provider: LlmProvider,
  request: LlmRequest,
  signal = new AbortController().signal,
  onChunk?: (chunk: LlmChunk) => void,
): Promise<{ chunks: LlmChunk[]; error: unknown }> {
  const chunks: LlmChunk[] = [];
  try {
    for await (const chunk of provider.chat(request, signal)) {
      chunks.push(chunk);
      onChunk?.(chunk);
    }
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

const textOf = (chunks: LlmChunk[]): string[] => chunks.flatMap((c) => (c.type === 'text' ? [c.text] : []));
const usageOf = (chunks: LlmChunk[]) => chunks.filter((c) => c.type === 'usage');

function expectLlmError(error: unknown, code: string, retryable = false): void {
  expect(error).toBeInstanceOf(ProviderError);
  const e = error as ProviderError;
  expect({ type: e.type, code: e.code, provider: e.provider, retryable: e.retryable }).toEqual({
    type: 'llm_error',
    code,
    provider: 'local',
    retryable,
  });
}

describe('local LLM (node-llama-cpp, GGUF)', () => {
  it('streams text token by token, then usage with input and output tokens', async () => {
    const provider = createLocalLlm(base());
    const { chunks, error } = await collect(provider, { model: 'tiny.gguf', messages: hello, maxTokens: 24 });
    expect(error).toBeUndefined();
    expect(textOf(chunks).length).toBeGreaterThanOrEqual(2);
    expect(textOf(chunks).join('').length).toBeGreaterThan(0);
    expect(chunks.at(-1)?.type).toBe('usage');
    const [usage] = usageOf(chunks);
    expect(usageOf(chunks)).toHaveLength(1);
    expect(usage).toMatchObject({ type: 'usage', outputTokens: 24 });
    expect((usage as { inputTokens: number }).inputTokens).toBeGreaterThan(hello[1]!.content.length / 2);
  });

  it('honours maxTokens', async () => {
    const provider = createLocalLlm(base());
    const { chunks, error } = await collect(provider, { model: 'tiny.gguf', messages: hello, maxTokens: 3 });
    expect(error).toBeUndefined();
    expect(textOf(chunks).length).toBeLessThanOrEqual(3);
    expect(usageOf(chunks)[0]).toMatchObject({ outputTokens: 3 });
  });

  it('with temperature 0 always picks the most likely token (same reply twice)', async () => {
    const provider = createLocalLlm(base());
    const request: LlmRequest = { model: 'tiny.gguf', messages: hello, maxTokens: 16, temperature: 0 };
    const first = await collect(provider, request);
    const second = await collect(provider, request);
    expect(first.error).toBeUndefined();
    expect(textOf(second.chunks).join('')).toBe(textOf(first.chunks).join(''));
  });

  it('stops at once and quietly when aborted mid-stream, and the next chat still works', async () => {
    const provider = createLocalLlm(base());
    const controller = new AbortController();
    let seenAtAbort = -1;
    const outcome = await collect(
      provider,
      { model: 'tiny.gguf', messages: hello, maxTokens: 400 },
      controller.signal,
      (chunk) => {
        if (chunk.type === 'text' && seenAtAbort < 0) {
          controller.abort();
          seenAtAbort = 1;
        }
      },
    );
    expect(outcome.error).toBeUndefined();
    // Nothing after the abort: not the rest of the text, not usage.
    expect(outcome.chunks).toHaveLength(1);
    const again = await collect(provider, { model: 'tiny.gguf', messages: hello, maxTokens: 4 });
    expect(again.error).toBeUndefined();
    expect(usageOf(again.chunks)[0]).toMatchObject({ outputTokens: 4 });
  });

  it('stops generating when the consumer stops reading', async () => {
    const provider = createLocalLlm(base());
    for await (const chunk of provider.chat(
      { model: 'tiny.gguf', messages: hello, maxTokens: 400 },
      new AbortController().signal,
    )) {
      expect(chunk.type).toBe('text');
      break;
    }
    // The context went back to the pool only after generation stopped; it serves the next chat.
    const again = await collect(provider, { model: 'tiny.gguf', messages: hello, maxTokens: 2 });
    expect(again.error).toBeUndefined();
  });

  it('ends quietly when aborted before the first token', async () => {
    const provider = createLocalLlm(base());
    const controller = new AbortController();
    const iterator = provider
      .chat({ model: 'tiny.gguf', messages: hello, maxTokens: 400 }, controller.signal)
      [Symbol.asyncIterator]();
    const next = iterator.next();
    controller.abort();
    await expect(next).resolves.toEqual({ done: true, value: undefined });
  });

  it('does nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const provider = createLocalLlm(base());
    const outcome = await collect(provider, { model: 'missing.gguf', messages: hello }, controller.signal);
    expect(outcome).toEqual({ chunks: [], error: undefined });
  });

  it('serves concurrent chats on one model (one shared load, a context each)', async () => {
    const path = await resolveModelPath(modelsDir, 'sub/copy.gguf');
    const loads = [loadModel(path), loadModel(path)];
    expect(loads[0]).toBe(loads[1]);
    const provider = createLocalLlm(base());
    const request: LlmRequest = { model: 'sub/copy.gguf', messages: hello, maxTokens: 8 };
    const results = await Promise.all([collect(provider, request), collect(provider, request)]);
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(usageOf(r.chunks)[0]).toMatchObject({ outputTokens: 8 });
    }
  });

  describe('tool calls', () => {
    const bookTool: LlmToolDefinition = {
      name: 'book_table',
      description: 'Book a table',
      parameters: {
        type: 'object',
        properties: {
          day: { type: 'string', enum: ['monday', 'friday'] },
          // Enumerated: a random model's free integers can run to hundreds of digits.
          guests: { type: 'integer', enum: [1, 2, 3, 4] },
          name: { type: 'string', maxLength: 8 },
          outside: { type: 'boolean' },
        },
        required: ['day', 'guests', 'name', 'outside'],
        additionalProperties: false,
      },
    };
    const hangUp: LlmToolDefinition = {
      name: 'end_call',
      description: 'Hang up',
      parameters: { type: 'object', properties: {}, additionalProperties: false },
    };
    const validate = new Ajv().compile(bookTool.parameters);

    it('with toolChoice "required", returns a tool call whose arguments match the schema', async () => {
      const provider = createLocalLlm({ ...base(), contextSize: 2048, toolChoice: 'required' });
      const { chunks, error } = await collect(provider, {
        model: 'tiny.gguf',
        messages: [{ role: 'user', content: 'Book a table for friday.' }],
        tools: [bookTool, hangUp],
        maxTokens: 400,
      });
      expect(error).toBeUndefined();
      const calls = chunks.flatMap((c) => (c.type === 'tool-call' ? [c.call] : []));
      expect(calls).toHaveLength(1);
      const call = calls[0]!;
      expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
      expect(['book_table', 'end_call']).toContain(call.name);
      if (call.name === 'book_table')
        expect(validate(call.arguments), JSON.stringify(validate.errors)).toBe(true);
      else expect(call.arguments).toEqual({});
      expect(textOf(chunks)).toEqual([]);
      expect(chunks.at(-1)).toMatchObject({ type: 'usage' });
    });

    it('in "auto" mode answers in text or with a valid tool call, also after a tool result', async () => {
      const provider = createLocalLlm({ ...base(), contextSize: 2048 });
      const { chunks, error } = await collect(provider, {
        model: 'tiny.gguf',
        messages: [
          { role: 'system', content: 'You book tables.' },
          { role: 'user', content: 'Book friday for two.' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [
              {
                id: 'c1',
                name: 'book_table',
                arguments: { day: 'friday', guests: 2, name: 'Al', outside: false },
              },
            ],
          },
          { role: 'tool', toolCallId: 'c1', name: 'book_table', content: '{"ok":true}' },
        ],
        tools: [bookTool, hangUp],
        maxTokens: 16,
      });
      expect(error).toBeUndefined();
      for (const c of chunks) {
        if (c.type === 'tool-call' && c.call.name === 'book_table')
          expect(validate(c.call.arguments)).toBe(true);
      }
      expect(chunks.some((c) => c.type === 'text' || c.type === 'tool-call')).toBe(true);
      expect(chunks.at(-1)).toMatchObject({ type: 'usage' });
    });

    it('in "auto" mode returns a call made in the chat template\'s own syntax, arguments per schema', async () => {
      const provider = createLocalLlm({ ...base(), contextSize: 2048 });
      for (let i = 0; i < 2; i++) {
        const { chunks, error } = await collect(provider, {
          model: 'caller.gguf',
          messages: [{ role: 'user', content: 'Book a table for friday.' }],
          tools: [bookTool, hangUp],
          maxTokens: 200,
        });
        expect(error).toBeUndefined();
        expect(textOf(chunks)).toEqual([]);
        const calls = chunks.flatMap((c) => (c.type === 'tool-call' ? [c.call] : []));
        expect(calls).toHaveLength(1);
        const call = calls[0]!;
        expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
        if (call.name === 'book_table')
          expect(validate(call.arguments), JSON.stringify(validate.errors)).toBe(true);
        else expect(call).toMatchObject({ name: 'end_call', arguments: {} });
        expect(chunks.at(-1)).toMatchObject({ type: 'usage' });
      }
    });

    it('turns JSON Schema into the grammar subset (anyOf, type lists, definitions, unknown keywords)', () => {
      expect(
        toGrammarSchema({
          type: 'object',
          properties: {
            a: { anyOf: [{ type: 'string', pattern: '^x' }, { type: 'null' }] },
            b: { type: ['integer', 'null'], minimum: 1 },
            c: { $ref: '#/definitions/C' },
            d: {},
          },
          required: ['a', 'zzz'],
          definitions: { C: { type: 'string', format: 'email' } },
        }),
      ).toEqual({
        type: 'object',
        properties: {
          a: { oneOf: [{ type: 'string' }, { type: 'null' }] },
          b: { type: ['integer', 'null'] },
          c: { $ref: '#/$defs/C' },
          d: {
            oneOf: [
              { type: ['string', 'number', 'boolean', 'null'] },
              { type: 'array' },
              { type: 'object', additionalProperties: true },
            ],
          },
        },
        required: ['a'],
        additionalProperties: false,
        $defs: { C: { type: 'string' } },
      });
    });

    it('folds tool results into the calls they answer', () => {
      const history = toChatHistory([
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'x', name: 't', arguments: { q: 1 } }] },
        { role: 'tool', toolCallId: 'x', name: 't', content: '{"r":2}' },
      ]);
      expect(history).toEqual([
        { type: 'user', text: 'hi' },
        {
          type: 'model',
          response: ['Checking.', { type: 'functionCall', name: 't', params: { q: 1 }, result: { r: 2 } }],
        },
      ]);
      expect(toChatHistory([{ role: 'user', content: 'hi' }]).at(-1)).toEqual({
        type: 'model',
        response: [],
      });
    });
  });

  describe('errors', () => {
    it.each([['../outside.gguf'], ['sub/../../outside.gguf'], ['/etc/passwd'], ['.'], ['']])(
      'refuses the model path %j as invalid_model',
      async (model) => {
        const { chunks, error } = await collect(createLocalLlm(base()), { model, messages: hello });
        expect(chunks).toEqual([]);
        expectLlmError(error, 'invalid_model');
      },
    );

    it('reports a missing model file as model_not_found', async () => {
      const { error } = await collect(createLocalLlm(base()), { model: 'nope.gguf', messages: hello });
      expectLlmError(error, 'model_not_found');
      const dirAsModel = await collect(createLocalLlm(base()), { model: 'sub', messages: hello });
      expectLlmError(dirAsModel.error, 'model_not_found');
    });

    it('reports a file that is not a model as a non-retryable model_load_failed', async () => {
      const { error } = await collect(createLocalLlm(base()), { model: 'broken.gguf', messages: hello });
      expectLlmError(error, 'model_load_failed');
    });

    it('refuses invalid options when created', () => {
      expect(() => createLocalLlm({ modelsDir: '' })).toThrow(/modelsDir/);
      expect(() => createLocalLlm({ ...base(), threads: -1 })).toThrow(/threads/);
      expect(() => createLocalLlm({ ...base(), contextSize: 1.5 })).toThrow(/contextSize/);
      expect(() => createLocalLlm({ ...base(), toolChoice: 'always' as 'auto' })).toThrow(/toolChoice/);
    });

    it('rejects empty messages and bad sampling settings as invalid_request', async () => {
      const provider = createLocalLlm(base());
      expectLlmError(
        (await collect(provider, { model: 'tiny.gguf', messages: [] })).error,
        'invalid_request',
      );
      expectLlmError(
        (await collect(provider, { model: 'tiny.gguf', messages: hello, maxTokens: 0 })).error,
        'invalid_request',
      );
      expectLlmError(
        (await collect(provider, { model: 'tiny.gguf', messages: hello, temperature: -1 })).error,
        'invalid_request',
      );
    });

    it('rejects a message longer than the context as a non-retryable invalid_request', async () => {
      const provider = createLocalLlm(base());
      for (const content of ['blah '.repeat(200), 'x'.repeat(1_000_000)]) {
        const { error } = await collect(provider, {
          model: 'tiny.gguf',
          messages: [{ role: 'user', content }],
        });
        expectLlmError(error, 'invalid_request');
        expect((error as Error).message).toMatch(/context length exceeded/);
      }
    });
  });
});
