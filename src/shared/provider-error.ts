/**
 * The one error type every provider (LLM, STT, TTS) throws or emits. It maps 1:1 onto the
 * contract's `error` event: `error{type, code, message, provider, retryable}`.
 */
export type ProviderErrorType = 'llm_error' | 'stt_error' | 'tts_error' | 'tool_error' | 'webhook_error';

export class ProviderError extends Error {
  readonly type: ProviderErrorType;
  readonly code: string;
  readonly provider: string;
  readonly retryable: boolean;

  constructor(init: {
    type: ProviderErrorType;
    code: string;
    message: string;
    provider: string;
    retryable: boolean;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.name = 'ProviderError';
    this.type = init.type;
    this.code = init.code;
    this.provider = init.provider;
    this.retryable = init.retryable;
  }

  /**
   * `error` itself when it is a `ProviderError`; else a non-retryable one of this type and
   * provider that carries the error's message (and the error as `cause`).
   */
  static from(
    error: unknown,
    type: ProviderErrorType,
    provider: string,
    code = 'unavailable',
  ): ProviderError {
    if (error instanceof ProviderError) return error;
    return new ProviderError({
      type,
      code,
      message: error instanceof Error ? error.message : String(error),
      provider,
      retryable: false,
      cause: error,
    });
  }

  toEventError(): {
    type: ProviderErrorType;
    code: string;
    message: string;
    provider: string;
    retryable: boolean;
  } {
    return {
      type: this.type,
      code: this.code,
      message: this.message,
      provider: this.provider,
      retryable: this.retryable,
    };
  }
}
