import type { Cause, Payment, Subscription } from '../domain/entities.js';
import { assertNever } from '../errors.js';
import type { Repositories } from '../ports/repositories.js';
import type { RefundSubscriptionPolicy } from './refund-results.js';

/**
 * What a full refund of a subscription's payment does to the subscription (PAY_REFUND_SUBSCRIPTION_POLICY),
 * inside `tx`: `cancel_now` ends it now (`active | past_due → canceled`, no further billing),
 * `cancel_at_period_end` lets it run to the end of the period it paid for, `keep` leaves it alone.
 * Called by the refund flow and by the refund webhooks at the moment a payment becomes `refunded`.
 * Idempotent by state: a subscription already canceled, expired, not yet active, or already set to
 * cancel at its period's end is left as it is. Returns the subscription as it now is (null: none).
 */
export async function applyFullRefundPolicy(
  tx: Repositories,
  payment: Payment,
  policy: RefundSubscriptionPolicy,
  now: Date,
  cause: Cause,
): Promise<Subscription | null> {
  if (payment.status !== 'refunded' || payment.subscriptionId === null) {
    return null;
  }
  const subscription = await tx.subscriptions.lockById(payment.subscriptionId);
  if (subscription === null) {
    return null;
  }
  const { status } = subscription;
  if (status !== 'active' && status !== 'past_due') {
    return subscription;
  }
  switch (policy) {
    case 'keep':
      return subscription;
    case 'cancel_now':
      return (
        (await tx.subscriptions.transition(
          subscription.id,
          {
            from: status,
            to: 'canceled',
            patch: { canceledAt: now, endedAt: now, nextBillingAt: null },
          },
          cause,
        )) ?? subscription
      );
    case 'cancel_at_period_end':
      if (subscription.cancelAtPeriodEnd) {
        return subscription;
      }
      return (
        (await tx.subscriptions.transition(
          subscription.id,
          { from: status, to: status, patch: { cancelAtPeriodEnd: true, canceledAt: now } },
          cause,
        )) ?? subscription
      );
    default:
      return assertNever(policy, 'refund subscription policy');
  }
}
