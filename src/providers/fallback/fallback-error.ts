import { ProviderError } from '../provider-error.js';

/** Whether a failure may be answered by switching to the fallback (the contract's `retryable`). */
export const canFallBack = (error: unknown): error is ProviderError =>
  error instanceof ProviderError && error.retryable;

/**
 * The `error` event that tells the receiver the primary failed and the call goes on: with the
 * fallback, or (`fallbackName` undefined) with a new connection to the same provider.
 */
export const switchedError = (error: ProviderError, fallbackName: string | undefined): ProviderError =>
  new ProviderError({
    type: error.type,
    code: error.code,
    message: fallbackName
      ? `${error.message}; continuing with fallback provider ${fallbackName}`
      : `${error.message}; reconnected to ${error.provider}`,
    provider: error.provider,
    retryable: true,
    cause: error,
  });

export type ReportError = (error: ProviderError) => void;
