import type { Cause, Payment, Refund } from '../domain/entities.js';
import type { PaymentStatus, RefundStatus } from '../domain/statuses.js';
import type { Repositories } from '../ports/repositories.js';
import type { RefundSubscriptionPolicy } from './refund-results.js';
import { applyFullRefundPolicy } from './subscription-refund-policy.js';

/*
 * The arithmetic of refunds against one payment (DESIGN.md §2.6), and the one way a payment's
 * `amountRefunded` changes: by the payment state machine, with an event row carrying the amount moved.
 */

/** Refund statuses whose amount is spoken for: waiting for approval, at Stripe, or given back. */
export const LIVE_REFUND_STATUSES: readonly RefundStatus[] = Object.freeze([
  'requires_approval',
  'pending',
  'succeeded',
]);

/** Statuses of a payment that captured money, and so may be refunded. */
export const CAPTURED_PAYMENT_STATUSES: readonly PaymentStatus[] = Object.freeze([
  'succeeded',
  'partially_refunded',
  'refunded',
]);

/** What the payment captured (its amount), or null while it has captured nothing. */
export function capturedAmount(payment: Payment): number | null {
  return CAPTURED_PAYMENT_STATUSES.includes(payment.status) ? payment.amount : null;
}

/** Σ amount of the live refunds among `refunds`: what no new refund may take again. */
export function reservedAmount(refunds: readonly Refund[]): number {
  return refunds.filter((r) => LIVE_REFUND_STATUSES.includes(r.status)).reduce((sum, r) => sum + r.amount, 0);
}

/** Σ amount of the succeeded refunds among `refunds`. */
export function succeededAmount(refunds: readonly Refund[]): number {
  return refunds.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0);
}

/** The status a captured payment has with `amountRefunded` of its `amount` refunded. */
export function refundStatusFor(payment: Pick<Payment, 'amount'>, amountRefunded: number): PaymentStatus {
  if (amountRefunded <= 0) {
    return 'succeeded';
  }
  return amountRefunded >= payment.amount ? 'refunded' : 'partially_refunded';
}

/**
 * Sets a captured payment's `amountRefunded` to `target` (up or down) and moves it to the matching
 * status, in `tx`, under the caller's lock on the payment. The event row carries the signed amount moved
 * (negative when a failed refund gives money back), so the payment's refund events add up to its
 * `amountRefunded`. Returns the payment as it now is,
 * or null when another writer moved it first. When the payment becomes `refunded`, the subscription
 * it paid for follows `policy`.
 */
export async function setAmountRefunded(
  tx: Repositories,
  payment: Payment,
  target: number,
  options: { readonly cause: Cause; readonly policy: RefundSubscriptionPolicy; readonly now: Date },
): Promise<Payment | null> {
  if (target === payment.amountRefunded || capturedAmount(payment) === null) {
    return payment;
  }
  const moved = await tx.payments.transition(
    payment.id,
    {
      from: payment.status,
      to: refundStatusFor(payment, target),
      amount: target - payment.amountRefunded,
      patch: { amountRefunded: target },
    },
    options.cause,
  );
  if (moved !== null && moved.status === 'refunded' && payment.status !== 'refunded') {
    await applyFullRefundPolicy(tx, moved, options.policy, options.now, options.cause);
  }
  return moved;
}

/**
 * Brings the payment's `amountRefunded` up to Σ of its succeeded refunds, never down: a `charge.refunded`
 * webhook may already have set Stripe's total, which counts refunds still pending too.
 */
export async function raiseToSucceededRefunds(
  tx: Repositories,
  payment: Payment,
  options: { readonly cause: Cause; readonly policy: RefundSubscriptionPolicy; readonly now: Date },
): Promise<Payment | null> {
  const refunds = await tx.refunds.listByPayment(payment.accountId, payment.id);
  const target = Math.max(payment.amountRefunded, succeededAmount(refunds));
  return setAmountRefunded(tx, payment, Math.min(target, payment.amount), options);
}
