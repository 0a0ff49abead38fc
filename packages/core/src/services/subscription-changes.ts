import type { PaymentMethod, Subscription } from '../domain/entities.js';
import type { SubscriptionStatus } from '../domain/statuses.js';
import { InvalidStateError, assertNever } from '../errors.js';
import type { SubscriptionPatch, Transition } from '../ports/repositories.js';

/*
 * What a cancel, resume or card change does to a subscription, decided from the row alone: the
 * transition to apply, `null` when the subscription already is as asked (an idempotent no-op), or an
 * InvalidStateError naming the status when the change is not allowed. Pure, so the service, the
 * model-based test and any future caller agree on the rules.
 */

/** A change to apply through `subscriptions.transition` (a same-status change updates fields only). */
export type SubscriptionChangePlan = Transition<SubscriptionStatus, SubscriptionPatch>;

function refused(subscription: Subscription, what: string, why: string): InvalidStateError {
  return new InvalidStateError(`Subscription ${subscription.id} is ${subscription.status}: ${what} ${why}.`, {
    context: { subscriptionId: subscription.id, status: subscription.status },
  });
}

/** True for the statuses a customer is billed in (and so can cancel, resume or change the card of). */
function isLive(status: SubscriptionStatus): status is 'active' | 'past_due' {
  switch (status) {
    case 'active':
    case 'past_due':
      return true;
    case 'incomplete':
    case 'canceled':
    case 'expired':
      return false;
    default:
      return assertNever(status, 'subscription status');
  }
}

function whyNotLive(status: SubscriptionStatus): string {
  return status === 'incomplete' ? 'its first payment has not completed' : 'it has ended';
}

/**
 * Cancelling now ends an active or past-due subscription at once. Cancelling at period end keeps it
 * live and billable until then: `nextBillingAt` stays on the period's end so the renewal scheduler
 * reaches it there and, seeing `cancelAtPeriodEnd`, cancels instead of charging. Asking again for a
 * cancellation already pending is a no-op.
 */
export function planCancellation(
  subscription: Subscription,
  atPeriodEnd: boolean,
  now: Date,
): SubscriptionChangePlan | null {
  const { status } = subscription;
  if (!isLive(status)) {
    throw refused(subscription, 'it cannot be canceled because', whyNotLive(status));
  }
  if (!atPeriodEnd) {
    return {
      from: status,
      to: 'canceled',
      patch: { canceledAt: now, endedAt: now, nextBillingAt: null, cancelAtPeriodEnd: false },
    };
  }
  if (subscription.cancelAtPeriodEnd) {
    return null;
  }
  return {
    from: status,
    to: status,
    patch: { cancelAtPeriodEnd: true, canceledAt: now, nextBillingAt: subscription.currentPeriodEnd },
  };
}

/** Resuming undoes a pending cancellation at period end; there must be one, on a live subscription. */
export function planResumption(subscription: Subscription): SubscriptionChangePlan {
  const { status } = subscription;
  if (!isLive(status)) {
    throw refused(subscription, 'it cannot be resumed because', whyNotLive(status));
  }
  if (!subscription.cancelAtPeriodEnd) {
    throw refused(subscription, 'there is nothing to resume:', 'no cancellation is pending');
  }
  return { from: status, to: status, patch: { cancelAtPeriodEnd: false, canceledAt: null } };
}

/** Throws unless the subscription's card may be changed: only while it is billed (active or past due). */
export function assertCardChangeable(subscription: Subscription): void {
  if (!isLive(subscription.status)) {
    throw refused(subscription, 'its card cannot be changed because', whyNotLive(subscription.status));
  }
}

/**
 * The card change itself, or null when the subscription already bills `card`. A past-due
 * subscription's next retry moves to `now`: the new card is tried at once (and, should that attempt
 * not happen, by the scheduler's next pass).
 */
export function planCardChange(
  subscription: Subscription,
  card: PaymentMethod,
  now: Date,
): SubscriptionChangePlan | null {
  assertCardChangeable(subscription);
  if (subscription.paymentMethodId === card.id) {
    return null;
  }
  const { status } = subscription;
  return {
    from: status,
    to: status,
    patch: { paymentMethodId: card.id, ...(status === 'past_due' ? { nextBillingAt: now } : {}) },
  };
}
