import { isPayError, type PaymentAttempt } from '@pay/core';
import type { PaymentMetrics } from '../../metrics.js';

/** Counts a payment request's answer: its outcome the first time, a replay after that. */
export function countPaymentAttempt(metrics: PaymentMetrics, attempt: PaymentAttempt): void {
  if (attempt.replayed) {
    metrics.idempotentReplays.inc();
  } else {
    metrics.payments.inc({ outcome: attempt.result.kind });
  }
}

/**
 * Resolves as `work` does; when it fails for its idempotency key (409 in use, 422 reused), counts that
 * first. The error itself still goes to the one error middleware.
 */
export async function countingIdempotencyConflicts<T>(metrics: PaymentMetrics, work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    if (
      isPayError(error) &&
      (error.code === 'idempotency_key_in_use' || error.code === 'idempotency_key_reused')
    ) {
      metrics.idempotencyConflicts.inc({ code: error.code });
    }
    throw error;
  });
}
