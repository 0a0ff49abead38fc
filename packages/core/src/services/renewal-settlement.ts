import type { Cause, Payment, Subscription } from '../domain/entities.js';
import { InternalError, assertNever } from '../errors.js';
import type { PaymentId } from '../ids.js';
import type { Repositories, SubscriptionPatch } from '../ports/repositories.js';
import { nextRetryAt } from './renewal-period.js';
import type { DunningSchedule, RenewalOutcome } from './subscription-results.js';

/*
 * Moving a subscription to match its renewal's outcome. Idempotent by state: the change applies only
 * while the subscription still waits on exactly that try of that period (its current period ends where
 * the renewal's starts, and its dunning count is the renewal's try), so the request that charged, a
 * later pass after a crash and a second scheduler settle one renewal once between them.
 */

/** Every subscription change the renewal job makes carries this cause (with the payment, when one). */
export const RENEWALS_JOB = 'renewals';

/** What settling did: the outcome, and the charge's result when this call recorded it. */
export interface Settlement {
  readonly outcome: RenewalOutcome;
  readonly charge: 'succeeded' | 'failed' | null;
}

function causeOf(payment: Payment): Cause {
  return { job: RENEWALS_JOB, paymentId: payment.id };
}

/** True while the subscription still waits on the renewal `payment` (the same period, the same try). */
export function awaitsRenewal(subscription: Subscription, payment: Payment): boolean {
  return (
    (subscription.status === 'active' || subscription.status === 'past_due') &&
    payment.subscriptionId === subscription.id &&
    payment.billingPeriodStart?.getTime() === subscription.currentPeriodEnd.getTime() &&
    payment.renewalAttempt === subscription.dunningAttempts
  );
}

/**
 * Settles the subscription from its renewal `paymentId`, inside `tx` with the subscription row locked:
 * a success moves it to the paid period (`active`); a failure counts a dunning try and schedules the
 * next (`past_due`), or expires it when the schedule is exhausted; an outcome still unknown is `waiting`.
 */
export async function settleRenewal(
  tx: Repositories,
  subscription: Subscription,
  paymentId: PaymentId,
  schedule: DunningSchedule,
  now: Date,
): Promise<Settlement> {
  const subscriptionId = subscription.id;
  const payment = await tx.payments.findById(subscription.accountId, paymentId);
  if (payment === null) {
    throw new InternalError(`Renewal ${paymentId} of subscription ${subscriptionId} does not exist.`);
  }
  if (!awaitsRenewal(subscription, payment)) {
    return { outcome: { kind: 'not_due', subscriptionId }, charge: null };
  }
  const periodStart = subscription.currentPeriodEnd;
  switch (payment.status) {
    case 'pending':
    case 'requires_action':
    case 'processing':
      return { outcome: { kind: 'waiting', subscriptionId, paymentId }, charge: null };
    case 'succeeded':
    case 'partially_refunded':
    case 'refunded': {
      const periodEnd = payment.billingPeriodEnd;
      if (periodEnd === null) {
        throw new InternalError(`Renewal ${paymentId} names no period end.`);
      }
      await moveOrThrow(tx, subscription, 'active', payment, {
        currentPeriodStart: periodStart,
        currentPeriodEnd: periodEnd,
        // Also with a pending cancellation: the scheduler comes back at the end of the paid period and
        // cancels it then.
        nextBillingAt: periodEnd,
        dunningAttempts: 0,
      });
      return { outcome: { kind: 'renewed', subscriptionId, paymentId }, charge: 'succeeded' };
    }
    case 'failed':
    case 'canceled': {
      const tries = subscription.dunningAttempts + 1;
      const retryAt = nextRetryAt(schedule, periodStart, subscription.dunningAttempts);
      if (retryAt === null) {
        // The state machine reaches `expired` through `past_due` only.
        const pastDue =
          subscription.status === 'past_due'
            ? subscription
            : await moveOrThrow(tx, subscription, 'past_due', payment, { dunningAttempts: tries });
        await moveOrThrow(tx, pastDue, 'expired', payment, {
          dunningAttempts: tries,
          endedAt: now,
          nextBillingAt: null,
        });
        return { outcome: { kind: 'expired', subscriptionId, paymentId }, charge: 'failed' };
      }
      await moveOrThrow(tx, subscription, 'past_due', payment, {
        dunningAttempts: tries,
        nextBillingAt: retryAt,
      });
      return {
        outcome: { kind: 'past_due', subscriptionId, paymentId, nextRetryAt: retryAt },
        charge: 'failed',
      };
    }
    default:
      return assertNever(payment.status, 'payment status');
  }
}

async function moveOrThrow(
  tx: Repositories,
  subscription: Subscription,
  to: Subscription['status'],
  payment: Payment,
  patch: SubscriptionPatch,
): Promise<Subscription> {
  // The event row's amount is what the change took: the renewal's amount when it paid a period.
  const amount = to === 'active' ? payment.amount : 0;
  // The row is locked by the caller, so the compare-and-set cannot lose; null would be a bug.
  const moved = await tx.subscriptions.transition(
    subscription.id,
    { from: subscription.status, to, amount, patch },
    causeOf(payment),
  );
  if (moved === null) {
    throw new InternalError(`Subscription ${subscription.id} moved while its row was locked.`);
  }
  return moved;
}

/**
 * Ends a subscription whose cancellation at period end has come: `canceled` as of the end of the period
 * it paid for, no further billing. Inside `tx`, the row locked.
 */
export async function cancelAtPeriodEnd(
  tx: Repositories,
  subscription: Subscription,
): Promise<RenewalOutcome> {
  const moved = await tx.subscriptions.transition(
    subscription.id,
    {
      from: subscription.status,
      to: 'canceled',
      patch: { endedAt: subscription.currentPeriodEnd, nextBillingAt: null },
    },
    { job: RENEWALS_JOB },
  );
  if (moved === null) {
    throw new InternalError(`Subscription ${subscription.id} moved while its row was locked.`);
  }
  return { kind: 'canceled', subscriptionId: subscription.id };
}
