import type { AsyncRefund } from '../cards.js';
import { InvalidRequestError } from '../errors.js';
import { previousAttributes } from '../objects/event.js';
import { newBalanceTransaction } from '../objects/ledger-objects.js';
import type { RefundObject } from '../objects/refund.js';
import type { ChargeRecord } from '../store/account.js';
import type { ExecContext } from './context.js';

/*
 * The asynchronous-refund test cards (docs.stripe.com/testing, "Simulate an asynchronous refund"):
 * 4000000000007726's refunds start `pending` and succeed later (`refund.updated`), 4000000000005126's look
 * `succeeded` and fail later (`refund.failed`, `failure_reason: expired_or_canceled_card`). "Later" is the
 * sandbox clock, as for a `processing` intent; `POST /_sandbox/refunds/:id/settle` makes it now.
 */

/**
 * The later change a refund of `charge` will go through, or undefined when it is final at once. Only a
 * captured charge's refund is a card refund: releasing an authorisation moves no money, so it cannot fail.
 */
export function asyncRefundOf(ctx: ExecContext, charge: ChargeRecord['object']): AsyncRefund | undefined {
  if (!charge.captured) {
    return undefined;
  }
  return ctx.account.paymentMethods.get(charge.payment_method)?.card.asyncRefund;
}

/**
 * The change still ahead of `refund`: its card's, while the refund is in the status it started in. Final
 * statuses never move again, so a settle call and the clock's timer cannot both apply it.
 */
function pendingChange(ctx: ExecContext, refund: RefundObject): AsyncRefund | undefined {
  const charge = ctx.account.charges.get(refund.charge)?.object;
  const change = charge === undefined ? undefined : asyncRefundOf(ctx, charge);
  return change !== undefined && refund.status === change.starts ? change : undefined;
}

/** Schedules the refund's later change on the sandbox clock (at once with a delay of 0). */
export function scheduleRefundSettlement(ctx: ExecContext, refundId: string): void {
  const delay = ctx.core.settings.asyncRefundDelaySeconds;
  if (delay <= 0) {
    settleRefund(ctx, refundId);
    return;
  }
  ctx.core.later(ctx.account, delay, (later) => {
    const refund = later.account.refunds.get(refundId);
    if (refund !== undefined && pendingChange(later, refund) !== undefined) {
      settleRefund(later, refundId);
    }
  });
}

/**
 * Gives a refund of an asynchronous-refund card its final status now. Throws a 400 when the refund has no
 * change ahead (another card's, or already final); the control plane answers that with 409.
 */
export function settleRefund(ctx: ExecContext, refundId: string): RefundObject {
  const before = ctx.account.refunds.get(refundId);
  const change = before === undefined ? undefined : pendingChange(ctx, before);
  if (before === undefined || change === undefined) {
    throw new InvalidRequestError(
      `Refund ${refundId} cannot be settled: it has a status of ${before?.status ?? 'unknown'} and no later change.`,
      { param: 'refund' },
    );
  }
  switch (change.ends) {
    case 'succeeded':
      return succeed(ctx, before);
    case 'failed':
      return fail(ctx, before, change.failureReason);
    default: {
      const unknown: never = change;
      throw new Error(`unknown refund change ${JSON.stringify(unknown)}`);
    }
  }
}

/** A pending refund goes through: the charge already counted it, so only the refund changes. */
function succeed(ctx: ExecContext, before: RefundObject): RefundObject {
  const after: RefundObject = { ...before, status: 'succeeded', pending_reason: null };
  save(ctx, before, after);
  return after;
}

/**
 * The bank sends a refund back: the money returns to the account (a `refund_failure` balance transaction)
 * and to the charge, which may be refunded again up to its new remainder.
 */
function fail(ctx: ExecContext, before: RefundObject, failureReason: string): RefundObject {
  const record = ctx.account.charges.get(before.charge);
  if (record === undefined) {
    throw new Error(`refund ${before.id} of an unknown charge ${before.charge}`);
  }
  const bt = newBalanceTransaction({
    created: ctx.now,
    amount: before.amount,
    currency: before.currency,
    source: before.id,
    type: 'refund_failure',
  });
  ctx.account.balanceTransactions.set(bt.id, bt);
  const after: RefundObject = {
    ...before,
    status: 'failed',
    failure_balance_transaction: bt.id,
    failure_reason: failureReason,
  };
  const charge = record.object;
  const amountRefunded = charge.amount_refunded - before.amount;
  ctx.account.charges.replace(charge.id, {
    ...record,
    object: { ...charge, amount_refunded: amountRefunded, refunded: false },
  });
  save(ctx, before, after);
  ctx.emit('refund.failed', after);
  return after;
}

/**
 * Stores the new refund and announces it: `refund.updated` (every refund since 2024-10-28.acacia) and the
 * older `charge.refund.updated`, both with `previous_attributes`.
 */
function save(ctx: ExecContext, before: RefundObject, after: RefundObject): void {
  ctx.account.refunds.replace(after.id, after);
  const changed = previousAttributes(before, after) ?? {};
  ctx.emit('refund.updated', after, changed);
  ctx.emit('charge.refund.updated', after, changed);
}
