import { isPayError, type RefundAttempt } from '@pay/core';
import type { PaymentMetrics, RefundMetrics } from '../../metrics.js';
import { countingIdempotencyConflicts } from '../payments/payment-metrics.js';

/** What the refund routes count with: their own counters, and the idempotency counters payments share. */
export interface RefundCounters {
  readonly refundMetrics: RefundMetrics;
  /** `pay_idempotent_replays_total` and `pay_idempotency_conflicts_total` are one series for every route. */
  readonly paymentMetrics: PaymentMetrics;
}

/** Counts a refund request's answer: its outcome (and the money, once succeeded) the first time, a replay after. */
function countRefundAttempt(counters: RefundCounters, attempt: RefundAttempt): void {
  if (attempt.replayed) {
    counters.paymentMetrics.idempotentReplays.inc();
    return;
  }
  const { refund } = attempt;
  counters.refundMetrics.refunds.inc({ outcome: refund.status });
  if (refund.status === 'succeeded') {
    counters.refundMetrics.refundedAmount.inc({ currency: refund.currency }, refund.amount);
  }
}

/**
 * Resolves as `work` does, counting its outcome; when it fails with a PayError, counts its code (and an
 * idempotency conflict as payments do). The error itself still goes to the one error middleware.
 */
export async function countingRefund(
  counters: RefundCounters,
  work: Promise<RefundAttempt>,
): Promise<RefundAttempt> {
  const attempt = await countingIdempotencyConflicts(counters.paymentMetrics, work).catch(
    (error: unknown) => {
      countRefundRefusal(counters, error);
      throw error;
    },
  );
  countRefundAttempt(counters, attempt);
  return attempt;
}

/** Counts a refund request refused before the service ran (a service key's 403) or by it. */
export function countRefundRefusal(counters: RefundCounters, error: unknown): void {
  if (isPayError(error)) {
    counters.refundMetrics.refunds.inc({ outcome: error.code });
  }
}
