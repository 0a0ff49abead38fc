import type { Payment, Refund } from '../domain/entities.js';
import { InvalidStateError, NotFoundError, RefundExceedsCapturedError, ValidationError } from '../errors.js';
import { isId, type AccountId, type PaymentId } from '../ids.js';
import { money } from '../money.js';
import type { Repositories } from '../ports/repositories.js';
import type { CreateRefundInput } from './refund-results.js';
import { capturedAmount, reservedAmount } from './refund-ledger.js';

/** The longest reason an operator may give (it is kept in the audit log). */
export const MAX_REFUND_REASON_LENGTH = 500;

/** A refund request whose fields are checked (the amount against the currency once the payment is read). */
export interface CheckedRefundInput {
  readonly accountId: AccountId;
  readonly paymentId: PaymentId;
  /** null → all that remains. */
  readonly amount: number | null;
  readonly reason: string | null;
}

export function noSuchPayment(id: string): NotFoundError {
  return new NotFoundError(`No such payment: ${id.slice(0, 64)}.`, { param: 'payment_id' });
}

/** Checks the request's own fields; ValidationError / NotFoundError, nothing read or written. */
export function checkCreateRefundInput(input: CreateRefundInput): CheckedRefundInput {
  if (typeof input.paymentId !== 'string' || !isId('payment', input.paymentId)) {
    // A malformed id names no payment of the caller's: the same answer as another account's id.
    throw noSuchPayment(String(input.paymentId));
  }
  const { amount, reason } = input;
  if (amount !== undefined && (!Number.isSafeInteger(amount) || amount <= 0)) {
    throw new ValidationError(
      `The amount must be a positive integer number of minor units (cents), got ${String(amount)}.`,
      { param: 'amount' },
    );
  }
  if (reason !== undefined && reason !== null && typeof reason !== 'string') {
    throw new ValidationError('The reason must be text.', { param: 'reason' });
  }
  if (typeof reason === 'string' && reason.length > MAX_REFUND_REASON_LENGTH) {
    throw new ValidationError(`The reason must be at most ${MAX_REFUND_REASON_LENGTH} characters.`, {
      param: 'reason',
    });
  }
  const trimmed = typeof reason === 'string' ? reason.trim() : '';
  return {
    accountId: input.accountId,
    paymentId: input.paymentId,
    amount: amount ?? null,
    reason: trimmed === '' ? null : trimmed,
  };
}

/** The account's payment the request names, with its amount checked against the payment's currency. */
export async function findRefundablePayment(
  repos: Repositories,
  checked: CheckedRefundInput,
): Promise<Payment> {
  const payment = await repos.payments.findById(checked.accountId, checked.paymentId);
  if (payment === null) {
    throw noSuchPayment(checked.paymentId);
  }
  if (checked.amount !== null) {
    money(checked.amount, payment.currency, 'amount');
  }
  return payment;
}

/** What a refund of `payment` would be, given its refunds so far. */
export interface RefundPlan {
  readonly captured: number;
  /** Σ of the live refunds before this one. */
  readonly reserved: number;
  /** What may still be refunded before this one. */
  readonly remaining: number;
  readonly amount: number;
}

/**
 * Plans a refund of `requested` (null: all that remains) against what `payment` captured less its live
 * refunds: InvalidStateError (409) when it captured nothing, RefundExceedsCapturedError (422) when
 * more is asked than remains. Callers that write hold the payment's row lock while they read `refunds`.
 */
export function planRefund(
  payment: Payment,
  refunds: readonly Refund[],
  requested: number | null,
): RefundPlan {
  const captured = capturedAmount(payment);
  if (captured === null) {
    throw new InvalidStateError(
      `Payment ${payment.id} is ${payment.status}: it captured nothing that could be refunded.`,
      { context: { paymentId: payment.id, status: payment.status } },
    );
  }
  const reserved = reservedAmount(refunds);
  const remaining = Math.max(0, captured - reserved);
  const amount = requested ?? remaining;
  if (remaining === 0 || amount > remaining) {
    throw new RefundExceedsCapturedError(
      remaining === 0
        ? `Payment ${payment.id} has nothing left to refund: all ${captured} ${payment.currency} minor units are refunded or being refunded.`
        : `A refund of ${amount} exceeds what remains refundable on payment ${payment.id}: ${remaining} ${payment.currency} minor units.`,
      {
        param: 'amount',
        context: { paymentId: payment.id, captured, reserved, remaining, requested: amount },
      },
    );
  }
  return { captured, reserved, remaining, amount };
}
