import type { Subscription } from '../domain/entities.js';
import type { FlowDeps } from './payment-flow.js';
import { applyObservation, observeIntent, type Observation } from './payment-outcome.js';
import { cancelAtStripe } from './payment-recovery.js';
import { RENEWALS_JOB } from './renewal-settlement.js';
import type { RenewalOutcome } from './subscription-results.js';

/*
 * An `incomplete` subscription whose first payment was abandoned (3-D Secure never completed) expires
 * after INCOMPLETE_EXPIRY_MS, as Stripe's do after 23 h. Its PaymentIntent is canceled at Stripe first,
 * so a card holder who comes back later cannot pay for a subscription that no longer exists; the
 * cancellation is then recorded like any other answer of Stripe's, which expires the subscription
 * (settleSubscription). An intent that completed meanwhile is recorded instead, and activates it.
 */

const CAUSE = { job: RENEWALS_JOB } as const;

/** Expires `subscription` (`incomplete`, past its deadline) unless its first payment completed meanwhile. */
export async function expireIncomplete(
  deps: FlowDeps,
  subscription: Subscription,
  now: Date,
): Promise<RenewalOutcome> {
  const { store } = deps;
  const subscriptionId = subscription.id;
  const payments = await store.repos.payments.listBySubscription(subscription.accountId, subscriptionId, 100);
  const first = payments.find((p) => p.billingReason === 'subscription_create') ?? null;
  if (first === null) {
    return expireWithoutPayment(deps, subscription, now);
  }
  let observation: Observation = { kind: 'pending' };
  if (first.status === 'requires_action' || first.status === 'pending') {
    if (first.stripePaymentIntentId === null) {
      // No intent recorded: its flow (or the recovery job, which abandons it after 24 h) still owns it.
      return { kind: 'waiting', subscriptionId, paymentId: first.id };
    }
    observation = observeIntent(await cancelAtStripe(deps, first, first.stripePaymentIntentId));
  } else if (first.status === 'processing') {
    // Money may be moving: Stripe's answer (a webhook, recovery) decides.
    return { kind: 'waiting', subscriptionId, paymentId: first.id };
  }
  await store.transaction((tx) => applyObservation(tx, first, observation, now, CAUSE));
  const after = await store.repos.subscriptions.findById(subscription.accountId, subscriptionId);
  switch (after?.status) {
    case 'expired':
      return { kind: 'expired', subscriptionId, paymentId: first.id };
    case 'incomplete':
      return { kind: 'waiting', subscriptionId, paymentId: first.id };
    default:
      return { kind: 'not_due', subscriptionId };
  }
}

/** A subscription without a first payment (it cannot be paid): expired, under its row lock. */
async function expireWithoutPayment(
  deps: FlowDeps,
  subscription: Subscription,
  now: Date,
): Promise<RenewalOutcome> {
  const moved = await deps.store.transaction(async (tx) => {
    const locked = await tx.subscriptions.lockById(subscription.id);
    if (locked?.status !== 'incomplete') {
      return null;
    }
    return tx.subscriptions.transition(
      subscription.id,
      { from: 'incomplete', to: 'expired', patch: { endedAt: now } },
      CAUSE,
    );
  });
  return moved === null
    ? { kind: 'not_due', subscriptionId: subscription.id }
    : { kind: 'expired', subscriptionId: subscription.id, paymentId: null };
}
