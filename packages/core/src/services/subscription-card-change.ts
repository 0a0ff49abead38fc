import type { Cause, Customer, IdempotencyKey, Subscription } from '../domain/entities.js';
import { GatewayRejectedError, InternalError } from '../errors.js';
import type { SubscriptionId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import type { AttachOutcome, PaymentGateway } from '../ports/gateway.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { hashApiKeySecret } from './api-key-secrets.js';
import { FINISHED_RECOVERY_POINT } from './idempotency.js';
import { stripeCustomerKey } from './payment-gateway-calls.js';
import { releaseKey, type PausedFlow } from './key-release.js';
import type { IdempotentRequest } from './payment-results.js';
import { assertCardChangeable, planCardChange } from './subscription-changes.js';
import { finishWithView, lockSubscription } from './subscription-requests.js';
import type { RenewalOutcome, SubscriptionView } from './subscription-results.js';
import { encodeSubscriptionRefusal, refusalError, type StoredRefusal } from './subscription-view-codec.js';
import { viewOfSubscription } from './subscription-views.js';

const CARD_CHANGE: PausedFlow = {
  name: 'card change',
  resourceField: 'subscriptionId',
  progress: 'the card change',
};

/*
 * Changing a subscription's card, in atomic phases like a payment (DESIGN.md §4, STYLE.md R7):
 * 1. the key and the checks, in one transaction (recovery point `started`, resource: the subscription);
 * 2. the card attached at Stripe, outside any transaction, under a Stripe key derived from the
 *    subscription and the request's key, so a retry gets Stripe's first answer;
 * 3. the card recorded and set on the subscription (`card_changed`); for a subscription not past due the
 *    answer is stored in the same transaction;
 * 4. a past-due subscription is retried at once on the new card, then the answer is stored.
 * A retry with the same key resumes from the recovery point; Stripe not answering releases the key
 * and throws a retryable 503.
 */

/** The card change's recovery points, in order. */
export const CARD_CHANGE_RECOVERY_POINTS = Object.freeze([
  'started',
  'card_changed',
  FINISHED_RECOVERY_POINT,
] as const);

/** What the card change runs on. */
export interface CardChangeDeps {
  readonly store: Store;
  readonly gateway: PaymentGateway;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly renewals: {
    renew(subscriptionId: SubscriptionId, options?: { now?: Date }): Promise<RenewalOutcome>;
  };
}

/**
 * pay's Stripe key for attaching the card of one card-change request: deterministic, so the request's
 * retries re-send the same key. The client's key is hashed: it is the client's text, of any length.
 */
export async function cardChangeStripeKey(
  subscriptionId: SubscriptionId,
  idempotencyKey: string,
): Promise<string> {
  return `pay:${subscriptionId}:attach:${(await hashApiKeySecret(idempotencyKey)).slice(0, 16)}`;
}

/**
 * Drives the card change of `key` (held by the caller, its subscription checked) to its answer. On a
 * failure the key is released at its last recovery point and the error thrown (retryable ones as 503).
 */
export async function runCardChange(
  deps: CardChangeDeps,
  key: IdempotencyKey,
  input: { readonly subscription: Subscription; readonly paymentMethodId: string },
  request: IdempotentRequest,
): Promise<SubscriptionView> {
  let answer: Answer;
  try {
    answer = await driveCardChange(deps, key, input, request);
  } catch (error) {
    throw await releaseKey(deps, key, error, CARD_CHANGE);
  }
  if (answer.kind === 'refused') {
    throw answer.error;
  }
  return answer.view;
}

/** The card change's answer: the view, or Stripe's final refusal of the card (stored on the key). */
type Answer =
  | { readonly kind: 'view'; readonly view: SubscriptionView }
  | { readonly kind: 'refused'; readonly error: GatewayRejectedError };

async function driveCardChange(
  deps: CardChangeDeps,
  key: IdempotencyKey,
  input: { readonly subscription: Subscription; readonly paymentMethodId: string },
  request: IdempotentRequest,
): Promise<Answer> {
  const { store } = deps;
  const { subscription } = input;
  const cause: Cause = { requestId: request.requestId };
  if (key.recoveryPoint !== 'card_changed') {
    const customer = await store.repos.customers.findById(subscription.accountId, subscription.customerId);
    if (customer === null) {
      throw new InternalError(`Subscription ${subscription.id} names a customer that does not exist.`);
    }
    const stripeCustomerId = await ensureStripeCustomer(deps, customer);
    let outcome: AttachOutcome;
    try {
      outcome = await deps.gateway.attachPaymentMethod({
        stripeCustomerId,
        paymentMethod: input.paymentMethodId,
        idempotencyKey: await cardChangeStripeKey(subscription.id, request.key),
      });
    } catch (error) {
      if (error instanceof GatewayRejectedError) {
        // Stripe refused the card itself (unknown, unusable): the same request would be refused again.
        return refuse(deps, key, {
          message: error.message,
          param: 'payment_method_id',
          gatewayCode: error.gatewayCode,
          declineCode: null,
        });
      }
      throw error;
    }
    if (outcome.kind === 'declined') {
      // As a payment's attach decline, the card holder's bank said no; with no payment to show for it,
      // the answer is the invalid_request of a card Stripe refused, naming the field.
      return refuse(deps, key, {
        message: outcome.decline.message,
        param: 'payment_method_id',
        gatewayCode: outcome.decline.code,
        declineCode: outcome.decline.declineCode,
      });
    }
    const card = outcome.card;
    const now = deps.clock.now();
    const done = await store.transaction(async (tx) => {
      const current = await lockSubscription(tx, subscription.accountId, subscription.id);
      assertCardChangeable(current);
      const stored = await tx.paymentMethods.upsertByStripeId({
        accountId: current.accountId,
        customerId: current.customerId,
        ...card,
      });
      if (stored.accountId !== current.accountId || stored.customerId !== current.customerId) {
        throw new InternalError(
          `Stripe attached a card pay holds for another customer to subscription ${current.id}.`,
        );
      }
      const plan = planCardChange(current, stored, now);
      const changed = plan === null ? current : await tx.subscriptions.transition(current.id, plan, cause);
      if (changed === null) {
        throw new InternalError(`Subscription ${current.id} moved while locked.`);
      }
      if (changed.status === 'past_due') {
        await tx.idempotencyKeys.update(key.id, { recoveryPoint: 'card_changed' });
        return null;
      }
      return finishWithView(tx, key, await viewOfSubscription(tx, changed));
    });
    if (done !== null) {
      return { kind: 'view', view: done };
    }
  }
  return { kind: 'view', view: await retryPastDue(deps, key, subscription) };
}

/** Phase 4: a past-due subscription is charged again at once on its new card, then the answer stored. */
async function retryPastDue(
  deps: CardChangeDeps,
  key: IdempotencyKey,
  subscription: Subscription,
): Promise<SubscriptionView> {
  const current = await deps.store.repos.subscriptions.findById(subscription.accountId, subscription.id);
  if (current?.status === 'past_due') {
    const outcome = await deps.renewals.renew(subscription.id, { now: deps.clock.now() });
    deps.logger.info('past-due subscription retried after its card changed', {
      subscriptionId: subscription.id,
      outcome: outcome.kind,
    });
  }
  return deps.store.transaction(async (tx) => {
    const after = await tx.subscriptions.findById(subscription.accountId, subscription.id);
    if (after === null) {
      throw new InternalError(`Subscription ${subscription.id} disappeared.`);
    }
    return finishWithView(tx, key, await viewOfSubscription(tx, after));
  });
}

async function ensureStripeCustomer(deps: CardChangeDeps, customer: Customer): Promise<string> {
  if (customer.stripeCustomerId !== null) {
    return customer.stripeCustomerId;
  }
  const created = await deps.gateway.createCustomer({
    accountId: customer.accountId,
    customerId: customer.id,
    idempotencyKey: stripeCustomerKey(customer),
  });
  const recorded = await deps.store.repos.customers.setStripeCustomerId(
    customer.id,
    created.stripeCustomerId,
  );
  // Another request of the same user recorded its Stripe customer first: use that one.
  const current = recorded ?? (await deps.store.repos.customers.findById(customer.accountId, customer.id));
  if (current === null || current.stripeCustomerId === null) {
    throw new InternalError(`Customer ${customer.id} lost its Stripe customer.`);
  }
  return current.stripeCustomerId;
}

/** Stores a final refusal on the key and frees it: a retry with the key gets the same error. */
async function refuse(deps: CardChangeDeps, key: IdempotencyKey, refusal: StoredRefusal): Promise<Answer> {
  await deps.store.repos.idempotencyKeys.update(key.id, {
    recoveryPoint: FINISHED_RECOVERY_POINT,
    lockedAt: null,
    responseStatus: 400,
    responseBody: encodeSubscriptionRefusal(refusal),
  });
  return { kind: 'refused', error: refusalError(refusal) };
}
