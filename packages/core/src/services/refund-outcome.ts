import type { Cause, Payment, Refund } from '../domain/entities.js';
import { canTransition } from '../domain/transitions.js';
import { InternalError, assertNever } from '../errors.js';
import type { GatewayRefund } from '../ports/gateway-events.js';
import type { Logger } from '../ports/logger.js';
import type { Repositories } from '../ports/repositories.js';
import { raiseToSucceededRefunds, setAmountRefunded } from './refund-ledger.js';
import type { RefundSubscriptionPolicy } from './refund-results.js';

/*
 * Recording what Stripe said about one of pay's refunds (the flow's last phase, and recovery), in one
 * transaction: the refund moved by compare-and-set (a webhook may have moved it first, and then it is
 * left as it is), its Stripe id recorded once, and the payment's `amountRefunded` brought in line.
 */

/** What pay learnt about a refund. */
export type RefundObservation =
  /** Stripe's refund (created now, retrieved, or found by pay's refund id). */
  | { readonly kind: 'gateway'; readonly refund: GatewayRefund }
  /** Stripe refused to create it: nothing happened there, and the same request would be refused again. */
  | { readonly kind: 'rejected'; readonly gatewayCode: string | null; readonly message: string }
  /** Past Stripe's key window Stripe holds no refund for it: none was made, and none will be. */
  | { readonly kind: 'abandoned' }
  /** Nothing new: answer from the rows. */
  | { readonly kind: 'none' };

/** Why an abandoned refund failed: nothing was refunded, and its amount is refundable again. */
export const ABANDONED_FAILURE_REASON = 'abandoned';

const MAX_FAILURE_REASON = 500;

/** What recording needs besides the rows. */
export interface RecordOptions {
  readonly cause: Cause;
  readonly policy: RefundSubscriptionPolicy;
  readonly now: Date;
  readonly logger: Logger;
}

/** The refund and its payment after recording, and whether the refund's status moved. */
export interface RecordedRefund {
  readonly refund: Refund;
  readonly payment: Payment;
  readonly moved: boolean;
}

/**
 * Records `observation` about `refund` inside `tx`. Locks the payment first and the refund second (the
 * order every refund writer takes), so the refund's status and the payment's total change together.
 */
export async function recordRefundObservation(
  tx: Repositories,
  refund: Refund,
  observation: RefundObservation,
  options: RecordOptions,
): Promise<RecordedRefund> {
  const payment = await tx.payments.lockById(refund.paymentId);
  const current = await tx.refunds.lockById(refund.id);
  if (payment === null || current === null) {
    throw new InternalError(`Refund ${refund.id} or its payment ${refund.paymentId} does not exist.`);
  }
  const { refund: after, moved } = await moveRefund(tx, current, observation, options);
  // Everything below is idempotent by state, so a repeat (a retry answered from the row) changes nothing.
  const ledger = {
    cause: { ...options.cause, refundId: refund.id },
    policy: options.policy,
    now: options.now,
  };
  let paid = payment;
  if (after.status === 'succeeded') {
    paid = (await raiseToSucceededRefunds(tx, payment, ledger)) ?? payment;
  } else if (moved && wasCountedAtStripe(current) && givesBack(after)) {
    paid = (await lowerToKnownTotal(tx, payment, ledger)) ?? payment;
  }
  return { refund: after, payment: paid, moved };
}

/** The refund after `observation` (its compare-and-set move, or its Stripe id recorded), and whether it moved. */
async function moveRefund(
  tx: Repositories,
  current: Refund,
  observation: RefundObservation,
  options: RecordOptions,
): Promise<{ readonly refund: Refund; readonly moved: boolean }> {
  const unmoved = { refund: current, moved: false };
  switch (observation.kind) {
    case 'none':
      return unmoved;
    case 'rejected':
    case 'abandoned': {
      // Only a refund never sent can be refused or abandoned; one Stripe knows is settled by Stripe.
      if (current.status !== 'pending' || current.stripeRefundId !== null) {
        return unmoved;
      }
      const failureReason =
        observation.kind === 'abandoned'
          ? ABANDONED_FAILURE_REASON
          : `${observation.gatewayCode ?? 'rejected'}: ${observation.message}`.slice(0, MAX_FAILURE_REASON);
      const failed = await tx.refunds.transition(
        current.id,
        {
          from: 'pending',
          to: observation.kind === 'abandoned' ? 'canceled' : 'failed',
          patch: { failureReason },
        },
        options.cause,
      );
      return movedTo(tx, current, failed);
    }
    case 'gateway': {
      const stripe = observation.refund;
      if (current.stripeRefundId !== null && current.stripeRefundId !== stripe.stripeRefundId) {
        throw new InternalError(
          `Refund ${current.id} records Stripe refund ${current.stripeRefundId}, Stripe answered ${stripe.stripeRefundId}.`,
        );
      }
      const link = current.stripeRefundId === null ? { stripeRefundId: stripe.stripeRefundId } : {};
      if (current.status !== stripe.status && canTransition('refund', current.status, stripe.status)) {
        const gaveBack = stripe.status === 'failed' || stripe.status === 'canceled';
        const moved = await tx.refunds.transition(
          current.id,
          {
            from: current.status,
            to: stripe.status,
            amount: stripe.status === 'succeeded' ? current.amount : 0,
            patch: { ...link, ...(gaveBack ? { failureReason: stripe.failureReason ?? stripe.status } : {}) },
          },
          options.cause,
        );
        return movedTo(tx, current, moved);
      }
      if (current.status !== stripe.status && current.status !== 'succeeded') {
        // Stripe holds a refund pay settled otherwise (abandoned, then found): pay does not guess.
        options.logger.error('Stripe reports a refund in a state pay cannot move its refund to', {
          refundId: current.id,
          status: current.status,
          stripeRefundId: stripe.stripeRefundId,
          stripeStatus: stripe.status,
        });
      }
      if (current.stripeRefundId !== null) {
        return unmoved;
      }
      const linked = await tx.refunds.setStripeRefundId(current.id, stripe.stripeRefundId);
      if (linked === null) {
        throw new InternalError(`Refund ${current.id} already records another Stripe refund.`);
      }
      return { refund: linked, moved: false };
    }
    default:
      return assertNever(observation, 'refund observation');
  }
}

/**
 * The refund after its compare-and-set move; under the refund's row lock the move cannot lose, but a
 * null is read back rather than trusted.
 */
async function movedTo(
  tx: Repositories,
  current: Refund,
  moved: Refund | null,
): Promise<{ readonly refund: Refund; readonly moved: boolean }> {
  if (moved !== null) {
    return { refund: moved, moved: true };
  }
  return { refund: (await tx.refunds.lockById(current.id)) ?? current, moved: false };
}

/** A refund Stripe held as pending or succeeded: counted in the charge's `amount_refunded`. */
function wasCountedAtStripe(refund: Refund): boolean {
  return refund.stripeRefundId !== null && (refund.status === 'pending' || refund.status === 'succeeded');
}

function givesBack(refund: Refund): boolean {
  return refund.status === 'failed' || refund.status === 'canceled';
}

/**
 * After a refund Stripe had counted failed, without the charge's own total at hand (recovery): lowers
 * the payment's `amountRefunded` to what pay knows Stripe still counts (its refunds Stripe holds as
 * pending or succeeded), never raising it. A refund pay has not heard of yet is put back by the next
 * `charge.refunded`, which only raises.
 */
async function lowerToKnownTotal(
  tx: Repositories,
  payment: Payment,
  ledger: Parameters<typeof setAmountRefunded>[3],
): Promise<Payment | null> {
  const refunds = await tx.refunds.listByPayment(payment.accountId, payment.id);
  const counted = refunds
    .filter((r) => r.status === 'succeeded' || (r.status === 'pending' && r.stripeRefundId !== null))
    .reduce((sum, r) => sum + r.amount, 0);
  return setAmountRefunded(tx, payment, Math.min(payment.amountRefunded, counted), ledger);
}
