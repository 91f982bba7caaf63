import { ProviderError } from '../../shared/provider-error.js';

/** Whether a failure may be answered by switching to the fallback (the contract's `retryable`). */
export const canFallBack = (error: unknown): error is ProviderError =>
  error instanceof ProviderError && error.retryable;

/**
 * The `error` event that tells the receiver a provider failed and the call goes on: `how` says
 * how ("continuing with fallback provider X", "reconnected to X", "retried once").
 */
export const switchedError = (error: ProviderError, how: string): ProviderError =>
  new ProviderError({
    type: error.type,
    code: error.code,
    message: `${error.message}; ${how}`,
    provider: error.provider,
    retryable: true,
    cause: error,
  });

export type ReportError = (error: ProviderError) => void;
