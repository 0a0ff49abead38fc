import type { Customer, Plan, Subscription } from '../domain/entities.js';
import { InternalError } from '../errors.js';
import type { Repositories } from '../ports/repositories.js';
import type { SubscriptionView } from './subscription-results.js';

/** How many of a subscription's payments its view carries (newest first). */
export const RECENT_PAYMENTS_LIMIT = 5;

/**
 * The views of `subscriptions`: each with its user's id, its plan, its card and its latest payments.
 * Customers and plans are read once each however many subscriptions share them (a page of one user's
 * subscriptions costs one customer lookup, not n).
 */
export async function viewsOfSubscriptions(
  repos: Repositories,
  subscriptions: readonly Subscription[],
): Promise<SubscriptionView[]> {
  const customers = new Map<string, Promise<Customer | null>>();
  const plans = new Map<string, Promise<Plan | null>>();
  for (const s of subscriptions) {
    if (!customers.has(s.customerId)) {
      customers.set(s.customerId, repos.customers.findById(s.accountId, s.customerId));
    }
    if (!plans.has(s.planId)) {
      plans.set(s.planId, repos.plans.findById(s.accountId, s.planId));
    }
  }
  return Promise.all(
    subscriptions.map(async (subscription) => {
      const [customer, plan, card, recentPayments] = await Promise.all([
        customers.get(subscription.customerId),
        plans.get(subscription.planId),
        subscription.paymentMethodId === null
          ? Promise.resolve(null)
          : repos.paymentMethods.findById(subscription.accountId, subscription.paymentMethodId),
        repos.payments.listBySubscription(subscription.accountId, subscription.id, RECENT_PAYMENTS_LIMIT),
      ]);
      if (customer === null || customer === undefined || plan === null || plan === undefined) {
        throw new InternalError(
          `Subscription ${subscription.id} names a customer or plan that does not exist.`,
        );
      }
      return {
        subscription,
        userId: customer.userId,
        plan,
        card: card === null ? null : { brand: card.brand, last4: card.last4 },
        recentPayments,
      };
    }),
  );
}

/** The view of one subscription. */
export async function viewOfSubscription(
  repos: Repositories,
  subscription: Subscription,
): Promise<SubscriptionView> {
  const [view] = await viewsOfSubscriptions(repos, [subscription]);
  if (view === undefined) {
    throw new InternalError(`Subscription ${subscription.id} has no view.`);
  }
  return view;
}
