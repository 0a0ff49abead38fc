import type { PayError } from '@pay/core';
import { STATUS } from './error-status.js';

/**
 * The `Retry-After` of a 503 whose error names no delay of its own: a dependency that failed (the
 * database's connection lost, Stripe silent) is usually back within a second, and the client is told
 * to retry with the same Idempotency-Key (DESIGN.md §7).
 */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 1;

/**
 * The `Retry-After` header value for `error`, in whole seconds: the error's own
 * `context.retryAfterSeconds` (429s, 409s, a rate-limited Stripe), else one second for every 503;
 * undefined when the client should not be told to wait and retry.
 */
export function retryAfterOf(error: PayError): string | undefined {
  const own = error.context.retryAfterSeconds;
  if (typeof own === 'number' && Number.isFinite(own)) {
    return String(Math.max(0, Math.ceil(own)));
  }
  return STATUS[error.code] === 503 ? String(DEPENDENCY_RETRY_AFTER_SECONDS) : undefined;
}
