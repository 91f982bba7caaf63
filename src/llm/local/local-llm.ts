import { randomInt, randomUUID } from 'node:crypto';
import {
  type ChatHistoryItem,
  type ChatModelFunctions,
  type ChatWrapper,
  LlamaChat,
  type LlamaChatResponse,
  type LlamaGrammar,
  type LlamaModel,
  resolveChatWrapper,
} from 'node-llama-cpp';
import { ProviderError } from '../../shared/provider-error.js';
import type { ChatMessage, LlmChunk, LlmProvider, LlmRequest, LlmToolDefinition } from '../llm.js';
import { toChatHistory } from './chat-history.js';
import { toGrammarSchema, toolCallSchema } from './json-schema.js';
import {
  acquireContext,
  type ContextLease,
  errorText,
  llmError,
  loadModel,
  PROVIDER,
  resolveModelPath,
} from './model-store.js';

export interface LocalLlmOptions {
  /** Directory of the operator's GGUF files; `request.model` is a file name inside it. */
  modelsDir: string;
  /** CPU threads per generation; 0 lets node-llama-cpp choose (all math cores). */
  threads?: number;
  /** Context window (tokens) of each chat: prompt and reply together. */
  contextSize?: number;
  /** Reply length limit when the request sets no `maxTokens`. */
  maxTokensDefault?: number;
  /** Temperature when the request sets none (0: always the most likely token). */
  temperatureDefault?: number;
  /** Idle contexts kept per model for the next chat (saves allocation, reuses the prompt prefix). */
  idleContexts?: number;
  /**
   * With `request.tools`: `auto` lets the model answer in text or call a tool, in its own chat
   * template's function-calling syntax (node-llama-cpp; the call's arguments are constrained by a
   * grammar built from the tool's schema). `required` makes every reply one tool call: the
   * whole output is constrained to `{"name": <a tool>, "arguments": <its schema>}`.
   */
  toolChoice?: 'auto' | 'required';
}

export const defaultLocalLlmOptions = {
  threads: 0,
  contextSize: 4096,
  maxTokensDefault: 512,
  temperatureDefault: 0.7,
  idleContexts: 1,
  toolChoice: 'auto',
} as const satisfies Required<Omit<LocalLlmOptions, 'modelsDir'>>;

/** Room kept for the chat template and the start of a reply when checking the input fits. */
const CONTEXT_RESERVE = 32;

/**
 * The `local` provider: GGUF models run in-process on the CPU by llama.cpp (node-llama-cpp).
 * Text streams as tokens are produced; the caller's signal stops generation at the next token.
 */
export function createLocalLlm(options: LocalLlmOptions): LlmProvider {
  if (typeof options.modelsDir !== 'string' || options.modelsDir.length === 0)
    throw new TypeError('createLocalLlm: modelsDir is required');
  const o: Settings = { ...defaultLocalLlmOptions, ...stripUndefined(options) };
  const count = (name: keyof Settings, value: number, min: number): void => {
    if (!Number.isInteger(value) || value < min)
      throw new TypeError(`createLocalLlm: ${name} must be an integer >= ${min}`);
  };
  count('threads', o.threads, 0);
  count('contextSize', o.contextSize, 2 * CONTEXT_RESERVE);
  count('maxTokensDefault', o.maxTokensDefault, 1);
  count('idleContexts', o.idleContexts, 0);
  if (!(o.temperatureDefault >= 0 && o.temperatureDefault <= 2))
    throw new TypeError('createLocalLlm: temperatureDefault must be between 0 and 2');
  if (o.toolChoice !== 'auto' && o.toolChoice !== 'required')
    throw new TypeError('createLocalLlm: toolChoice must be "auto" or "required"');
  return new LocalLlm(o);
}

type Settings = Required<LocalLlmOptions>;

class LocalLlm implements LlmProvider {
  readonly name = PROVIDER;

  constructor(private readonly o: Settings) {}

  async *chat(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmChunk> {
    if (signal.aborted) return;
    validate(request);
    const path = await resolveModelPath(this.o.modelsDir, request.model);
    const model = await untilAborted(loadModel(path), signal);
    if (!model || signal.aborted) return;
    checkFits(model, request.messages, this.o.contextSize);
    const lease = await untilAborted(
      acquireContext(path, model, {
        contextSize: this.o.contextSize,
        threads: this.o.threads,
        idleContexts: this.o.idleContexts,
      }),
      signal,
      (l) => l.release(),
    );
    if (!lease) return;
    yield* this.generate(model, lease, request, signal);
  }

  /** Owns `lease`: releases it once llama.cpp has let go of it. */
  private async *generate(
    model: LlamaModel,
    lease: ContextLease,
    request: LlmRequest,
    signal: AbortSignal,
  ): AsyncGenerator<LlmChunk> {
    const tools = request.tools ?? [];
    const forced = tools.length > 0 && this.o.toolChoice === 'required';
    let history: ChatHistoryItem[];
    let functions: ChatModelFunctions | undefined;
    let grammar: LlamaGrammar | undefined;
    let chat: LlamaChat;
    let inputTokens: number;
    try {
      history = toChatHistory(forced ? withToolInstructions(request.messages, tools) : request.messages);
      functions = tools.length > 0 && !forced ? toFunctions(tools) : undefined;
      grammar = forced ? await createGrammar(model, tools) : undefined;
      chat = new LlamaChat({
        contextSequence: lease.sequence,
        chatWrapper: chatWrapperOf(model),
        autoDisposeSequence: false,
      });
      // The whole prompt, as cloud APIs count it (llama.cpp evaluates only what the context's
      // previous chat did not already hold).
      inputTokens = chat.chatWrapper
        .generateContextState({
          chatHistory: history,
          availableFunctions: functions,
          documentFunctionParams: true,
        })
        .contextText.tokenize(model.tokenizer).length;
    } catch (error) {
      lease.release();
      throw error;
    }
    const meterBefore = lease.sequence.tokenMeter.getState();

    // node-llama-cpp reports through callbacks; this queue turns them into the iterator.
    const pending: LlmChunk[] = [];
    let wake: (() => void) | undefined;
    const notify = (): void => {
      wake?.();
      wake = undefined;
    };
    const stop = new AbortController();
    const onAbort = (): void => {
      stop.abort(signal.reason);
      notify();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    let finished = false;
    let failure: unknown;
    let response: LlamaChatResponse<ChatModelFunctions> | undefined;
    const common = {
      signal: stop.signal,
      stopOnAbortSignal: true,
      maxTokens: request.maxTokens ?? this.o.maxTokensDefault,
      temperature: request.temperature ?? this.o.temperatureDefault,
      // node-llama-cpp's default seed is the current second: replies within a second would repeat.
      seed: randomInt(2 ** 31),
      onTextChunk: forced
        ? undefined
        : (text: string) => {
            if (!text) return;
            pending.push({ type: 'text', text });
            notify();
          },
    };
    const run = (
      functions
        ? chat.generateResponse(history, { ...common, functions, documentFunctionParams: true })
        : chat.generateResponse(history, { ...common, grammar })
    ).then(
      (r) => {
        response = r as LlamaChatResponse<ChatModelFunctions>;
      },
      (error: unknown) => {
        failure = error;
      },
    );
    void run.finally(() => {
      finished = true;
      notify();
    });

    try {
      while (!signal.aborted) {
        const chunk = pending.shift();
        if (chunk) {
          yield chunk;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (signal.aborted) return;
      if (failure !== undefined) {
        if (stop.signal.aborted) return;
        throw toProviderError(failure);
      }
      if (!response) return;
      if (forced && grammar) {
        const call = parseForcedCall(grammar, response.response, response.metadata.stopReason);
        yield { type: 'tool-call', call: { id: newCallId(), ...call } };
      }
      for (const call of response.functionCalls ?? []) {
        yield {
          type: 'tool-call',
          call: { id: newCallId(), name: call.functionName, arguments: asArguments(call.params) },
        };
      }
      const used = lease.sequence.tokenMeter.diff(meterBefore);
      yield { type: 'usage', inputTokens, outputTokens: used.usedOutputTokens };
    } finally {
      signal.removeEventListener('abort', onAbort);
      // Leaving early (abort, or the consumer stopped reading): stop generating. The caller need
      // not wait for llama.cpp to finish its current batch; the context goes back to the pool
      // once it has.
      stop.abort();
      void run.then(() => {
        chat.dispose({ disposeSequence: false });
        lease.release();
      });
    }
  }
}

const chatWrappers = new WeakMap<LlamaModel, ChatWrapper>();

/** The model's chat template (node-llama-cpp's pick; a plain general one when it has none). */
function chatWrapperOf(model: LlamaModel): ChatWrapper {
  let wrapper = chatWrappers.get(model);
  if (!wrapper) {
    wrapper = resolveChatWrapper(model);
    chatWrappers.set(model, wrapper);
  }
  return wrapper;
}

function validate(request: LlmRequest): void {
  if (!Array.isArray(request.messages) || request.messages.length === 0)
    throw llmError('invalid_request', 'messages must not be empty', false);
  const { maxTokens, temperature } = request;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1))
    throw llmError('invalid_request', 'maxTokens must be a positive integer', false);
  if (temperature !== undefined && (!Number.isFinite(temperature) || temperature < 0 || temperature > 2))
    throw llmError('invalid_request', 'temperature must be between 0 and 2', false);
}

/**
 * The system messages and the last message must fit in the context: node-llama-cpp drops the
 * oldest turns of a long call to make room, but cannot shorten these. Reported as a
 * non-retryable `invalid_request`, like a cloud API's "context length exceeded" 400.
 */
function checkFits(model: LlamaModel, messages: readonly ChatMessage[], contextSize: number): void {
  const kept = messages.filter((m, i) => m.role === 'system' || i === messages.length - 1);
  const budget = contextSize - CONTEXT_RESERVE;
  let chars = 0;
  for (const m of kept) chars += m.content.length;
  // No tokenizer averages 32 characters a token: skip tokenizing what cannot fit anyway.
  let tokens = chars > budget * 32 ? Number.POSITIVE_INFINITY : 0;
  for (const m of kept) {
    if (tokens > budget) break;
    tokens += model.tokenize(m.content).length;
  }
  if (tokens > budget) {
    throw llmError(
      'invalid_request',
      `context length exceeded: the system prompt and last message need more than the ${contextSize}-token context`,
      false,
    );
  }
}

function withToolInstructions(
  messages: readonly ChatMessage[],
  tools: readonly LlmToolDefinition[],
): ChatMessage[] {
  const list = tools
    .map((t) => `- ${t.name}: ${t.description}\n  arguments (JSON Schema): ${JSON.stringify(t.parameters)}`)
    .join('\n');
  const instructions = `Answer by calling exactly one of these tools, as JSON {"name": ..., "arguments": {...}}:\n${list}`;
  const first = messages[0];
  if (first?.role === 'system') {
    return [{ role: 'system', content: `${first.content}\n\n${instructions}` }, ...messages.slice(1)];
  }
  return [{ role: 'system', content: instructions }, ...messages];
}

function toFunctions(tools: readonly LlmToolDefinition[]): ChatModelFunctions {
  // fromEntries: a tool named like an Object.prototype key still becomes an own entry.
  return Object.fromEntries(
    tools.map((tool) => [
      tool.name,
      { description: tool.description, params: toGrammarSchema(tool.parameters) },
    ]),
  );
}

async function createGrammar(model: LlamaModel, tools: readonly LlmToolDefinition[]): Promise<LlamaGrammar> {
  try {
    // The schema is built at run time, so its static type is the general one.
    const schema = toolCallSchema(tools) as Parameters<typeof model.llama.createGrammarForJsonSchema>[0];
    return await model.llama.createGrammarForJsonSchema(schema);
  } catch (error) {
    throw llmError(
      'invalid_request',
      `tool schemas cannot be turned into a grammar: ${errorText(error)}`,
      false,
      error,
    );
  }
}

function parseForcedCall(
  grammar: LlamaGrammar,
  text: string,
  stopReason: string,
): { name: string; arguments: Record<string, unknown> } {
  try {
    const parsed = (grammar as unknown as { parse(json: string): unknown }).parse(text) as {
      name: string;
      arguments: unknown;
    };
    return { name: parsed.name, arguments: asArguments(parsed.arguments) };
  } catch (error) {
    const why = stopReason === 'maxTokens' ? ': it reached maxTokens first' : ` (stopped by ${stopReason})`;
    // Sampling may go another way on a retry.
    throw llmError('invalid_response', `the model did not complete a tool call${why}`, true, error);
  }
}

function asArguments(params: unknown): Record<string, unknown> {
  return typeof params === 'object' && params !== null && !Array.isArray(params)
    ? (params as Record<string, unknown>)
    : {};
}

function newCallId(): string {
  return `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

function toProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const text = errorText(error);
  if (/context size|fit the context|too long|exceed/i.test(text)) {
    return llmError('invalid_request', `context length exceeded: ${text}`, false, error);
  }
  return llmError('server_error', `local generation failed: ${text}`, true, error);
}

/**
 * Waits for `promise` unless `signal` aborts first: then undefined, and `onLate` receives the
 * value whenever it arrives (to release what nobody will use).
 */
async function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  onLate?: (value: T) => void,
): Promise<T | undefined> {
  let onAbort!: () => void;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const result = await Promise.race([promise.then((value) => ({ value })), aborted]);
    if (result !== 'aborted' && !signal.aborted) return result.value;
    void promise.then(onLate, () => {});
    return undefined;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
