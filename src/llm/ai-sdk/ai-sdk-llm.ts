import { type LanguageModel, streamText } from 'ai';
import { ProviderError } from '../../shared/provider-error.js';
import type { LlmChunk, LlmProvider, LlmRequest } from '../llm.js';
import { toLlmProviderError } from './errors.js';
import { toModelMessages, toToolSet } from './messages.js';

export interface AiSdkLlmOptions {
  /** Provider name in `LlmProvider.name` and in every `ProviderError`. */
  name: string;
  /** The AI SDK model for a model id (e.g. `openai.chat(id)`). */
  model: (modelId: string) => LanguageModel;
  /**
   * Longest silence from the server (ms): before the first chunk, and between chunks. Then the
   * call is aborted with a retryable `timeout` ProviderError (the caller may fall back).
   */
  timeoutMs: number;
}

/** Shared by the cloud adapters: the stall deadline when the factory is not given one. */
export const defaultLlmTimeoutMs = 15_000;

/**
 * An `LlmProvider` over the Vercel AI SDK's `streamText`, one model step, no tool execution
 * (tools have no `execute`; Parley runs them) and no SDK retries (`maxRetries: 0`; Parley
 * retries and falls back itself). Text deltas, tool calls and the final usage are streamed as
 * they arrive; every failure becomes a `ProviderError` of type `llm_error`; the caller's abort
 * ends the stream quietly and closes the HTTP connection.
 */
export class AiSdkLlm implements LlmProvider {
  readonly name: string;

  constructor(private readonly o: AiSdkLlmOptions) {
    this.name = o.name;
  }

  async *chat(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmChunk> {
    if (signal.aborted) return;
    this.validate(request);
    const inner = new AbortController();
    const onAbort = () => inner.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        inner.abort(new Error('timeout'));
      }, this.o.timeoutMs);
    };
    const timeoutError = () =>
      new ProviderError({
        type: 'llm_error',
        code: 'timeout',
        message: `${this.name}: no response from the model for ${this.o.timeoutMs} ms`,
        provider: this.name,
        retryable: true,
      });

    try {
      const { system, messages } = toModelMessages(request.messages);
      const result = streamText({
        model: this.o.model(request.model),
        system,
        messages,
        tools: toToolSet(request.tools),
        temperature: request.temperature,
        maxOutputTokens: request.maxTokens,
        maxRetries: 0,
        abortSignal: inner.signal,
        // Errors arrive as `error` parts below; the default handler would also log them.
        onError: () => {},
      });
      let usage: { inputTokens: number; outputTokens: number } | undefined;
      arm();
      for await (const part of result.fullStream) {
        // The SDK's own bookkeeping parts do not show that the server is alive.
        if (part.type === 'start' || part.type === 'start-step') continue;
        // The deadline measures the server, not a slow consumer: paused while we yield.
        clearTimeout(timer);
        switch (part.type) {
          case 'text-delta':
            if (part.text) yield { type: 'text', text: part.text };
            break;
          case 'tool-call': {
            const args = part.input;
            if (part.invalid || typeof args !== 'object' || args === null || Array.isArray(args)) {
              throw new ProviderError({
                type: 'llm_error',
                code: 'bad_response',
                message: `${this.name}: the model called tool "${part.toolName}" with invalid arguments`,
                provider: this.name,
                retryable: true,
                cause: 'error' in part ? part.error : undefined,
              });
            }
            yield {
              type: 'tool-call',
              call: { id: part.toolCallId, name: part.toolName, arguments: args as Record<string, unknown> },
            };
            break;
          }
          case 'finish':
            usage = {
              inputTokens: part.totalUsage.inputTokens ?? 0,
              outputTokens: part.totalUsage.outputTokens ?? 0,
            };
            break;
          case 'error':
            throw part.error;
          case 'abort':
            if (timedOut) throw timeoutError();
            return;
        }
        if (signal.aborted) return;
        arm();
      }
      clearTimeout(timer);
      if (timedOut) throw timeoutError();
      if (signal.aborted) return;
      yield { type: 'usage', ...(usage ?? { inputTokens: 0, outputTokens: 0 }) };
    } catch (error) {
      if (signal.aborted) return;
      if (timedOut) throw timeoutError();
      throw toLlmProviderError(error, this.name);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // The consumer may stop early (break/return): close the connection.
      inner.abort();
    }
  }

  private validate(request: LlmRequest): void {
    const problem =
      request.messages.length === 0
        ? 'messages must not be empty'
        : request.messages.every((m) => m.role === 'system')
          ? 'messages need at least one user, assistant or tool message'
          : !request.model
            ? 'model must be named'
            : request.temperature !== undefined && !(request.temperature >= 0 && request.temperature <= 2)
              ? 'temperature must be between 0 and 2'
              : request.maxTokens !== undefined &&
                  !(Number.isInteger(request.maxTokens) && request.maxTokens > 0)
                ? 'maxTokens must be a positive integer'
                : undefined;
    if (problem) {
      throw new ProviderError({
        type: 'llm_error',
        code: 'invalid_request',
        message: `${this.name}: ${problem}`,
        provider: this.name,
        retryable: false,
      });
    }
  }
}
