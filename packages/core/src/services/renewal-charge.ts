import type { IdempotencyKey, Payment, Subscription } from '../domain/entities.js';
import { InternalError, NotFoundError } from '../errors.js';
import type { PaymentId, SubscriptionId } from '../ids.js';
import type { FaultPoints } from '../ports/faults.js';
import type { Repositories } from '../ports/repositories.js';
import { hashIdempotentRequest } from './idempotency.js';
import { isRenewalDue, renewalStripeKey, renewalTryOf, type RenewalTry } from './renewal-period.js';
import { RENEWALS_JOB, cancelAtPeriodEnd, settleRenewal, type Settlement } from './renewal-settlement.js';
import type { DunningSchedule } from './subscription-results.js';

/*
 * The renewal's first phase, in one transaction with the subscription row locked: re-check that it is
 * due, then find this try's renewal payment or create it, together with the internal idempotency key
 * the payment flow runs on (DESIGN.md §4). The key starts at `card_attached`: the subscription's card is
 * attached at Stripe and its customer exists since the first payment, so the flow starts by creating the
 * PaymentIntent. The recovery job resumes these keys like a client's (their resource is a `pay_` id).
 */

/**
 * The renewal job's named crash points, in the order a renewal reaches them:
 * - `renewal.after_payment_insert`: the renewal payment and its locked key are committed; nothing was
 *   sent to Stripe. The key goes stale and a later pass (or the recovery job) drives the payment.
 * - `renewal.after_charge_before_settle`: the payment has its outcome; the subscription does not show it
 *   yet. It stays due, and a later pass settles it from the payment without a second charge.
 */
export const RENEWAL_CRASH_POINTS = Object.freeze([
  'renewal.after_payment_insert',
  'renewal.after_charge_before_settle',
] as const);

/** One of {@link RENEWAL_CRASH_POINTS}. */
export type RenewalCrashPoint = (typeof RENEWAL_CRASH_POINTS)[number];

/** Reaches a renewal crash point (a typo in a point's name fails to compile). */
export function reachRenewal(faults: FaultPoints, point: RenewalCrashPoint): void {
  faults.reach(point);
}

/** How the first phase ended: with an outcome, or with a locked key for the payment flow to run. */
export type RenewalStart =
  | { readonly kind: 'done'; readonly settlement: Settlement }
  | {
      readonly kind: 'charge';
      readonly key: IdempotencyKey;
      readonly paymentId: PaymentId;
      /** This phase created the payment: the charge is a new attempt. */
      readonly created: boolean;
    };

/** What the first phase needs besides the transaction. */
export interface RenewalStartOptions {
  /** What decides whether the subscription is due (the pass's time). */
  readonly now: Date;
  /** The time the key's lock is taken at: the clock's, as the pass may have begun long ago. */
  readonly lockAt: Date;
  readonly when: 'scheduled' | 'now';
  readonly lockTimeoutMs: number;
  readonly schedule: DunningSchedule;
  /** The id a new renewal payment takes (chosen by the caller, as the payment service does). */
  readonly newPaymentId: PaymentId;
}

const done = (settlement: Settlement): RenewalStart => ({ kind: 'done', settlement });

/** The first phase of renewing `subscriptionId`, inside `tx`. NotFoundError for an unknown id. */
export async function startRenewal(
  tx: Repositories,
  subscriptionId: SubscriptionId,
  options: RenewalStartOptions,
): Promise<RenewalStart> {
  const subscription = await tx.subscriptions.lockById(subscriptionId);
  if (subscription === null) {
    throw new NotFoundError(`No such subscription: ${subscriptionId}.`, { param: 'id' });
  }
  if (!isRenewalDue(subscription, options.now, options.when)) {
    return done({ outcome: { kind: 'not_due', subscriptionId }, charge: null });
  }
  const plan = await tx.plans.findById(subscription.accountId, subscription.planId);
  if (plan === null) {
    throw new InternalError(`Subscription ${subscriptionId} names a plan that does not exist.`);
  }
  const renewal = renewalTryOf(subscription, plan.interval);
  const existing = await tx.payments.findRenewal(subscriptionId, renewal.periodStart, renewal.attempt);
  if (existing === null && subscription.cancelAtPeriodEnd) {
    // Nothing was charged for the next period: the paid one has ended, and so does the subscription.
    return done({ outcome: await cancelAtPeriodEnd(tx, subscription), charge: null });
  }
  if (existing !== null && existing.status !== 'pending') {
    // Decided since (by this flow before a crash, a webhook, recovery): only the settling is left.
    return done(await settleRenewal(tx, subscription, existing.id, options.schedule, options.lockAt));
  }
  const payment =
    existing ??
    (await tx.payments.create(newRenewal(subscription, plan, renewal, options.newPaymentId), {
      job: RENEWALS_JOB,
    }));
  const key = await takeRenewalKey(tx, subscription, payment, options);
  if (key === null) {
    // Another scheduler is charging this try right now; whoever finishes settles it.
    return done({ outcome: { kind: 'waiting', subscriptionId, paymentId: payment.id }, charge: null });
  }
  return { kind: 'charge', key, paymentId: payment.id, created: existing === null };
}

function newRenewal(
  subscription: Subscription,
  plan: { readonly amount: number; readonly currency: Payment['currency'] },
  renewal: RenewalTry,
  id: PaymentId,
) {
  if (subscription.paymentMethodId === null) {
    throw new InternalError(`Subscription ${subscription.id} is due but has no card to charge.`);
  }
  return {
    id,
    accountId: subscription.accountId,
    customerId: subscription.customerId,
    paymentMethodId: subscription.paymentMethodId,
    planId: subscription.planId,
    subscriptionId: subscription.id,
    billingReason: 'subscription_cycle' as const,
    amount: plan.amount,
    currency: plan.currency,
    stripeIdempotencyKey: renewalStripeKey(subscription.id, renewal),
    renewal: { periodStart: renewal.periodStart, periodEnd: renewal.periodEnd, attempt: renewal.attempt },
  };
}

/**
 * The renewal's idempotency key, locked for this run: inserted with the payment, or taken over when
 * free or stale (a crashed scheduler's, or one deleted after 24 h and inserted again). Null while another
 * run holds it.
 */
async function takeRenewalKey(
  tx: Repositories,
  subscription: Subscription,
  payment: Payment,
  options: RenewalStartOptions,
): Promise<IdempotencyKey | null> {
  const requestPath = `/internal/subscriptions/${subscription.id}/renewals`;
  const requestParams = { version: 1, paymentId: payment.id, renewal: true };
  const { key, inserted } = await tx.idempotencyKeys.insert({
    accountId: subscription.accountId,
    key: `renewal:${payment.stripeIdempotencyKey}`,
    requestMethod: 'POST',
    requestPath,
    paramsHash: await hashIdempotentRequest({ method: 'POST', path: requestPath, params: requestParams }),
    requestParams,
    now: options.lockAt,
  });
  if (inserted) {
    return tx.idempotencyKeys.update(key.id, { resourceId: payment.id, recoveryPoint: 'card_attached' });
  }
  if (key.resourceId !== payment.id) {
    throw new InternalError(`Renewal key ${key.id} names another payment than ${payment.id}.`);
  }
  const staleBefore = new Date(options.lockAt.getTime() - options.lockTimeoutMs);
  return tx.idempotencyKeys.lock(key.id, options.lockAt, staleBefore);
}
