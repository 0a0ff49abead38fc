import {
  SUBSCRIPTION_STATUSES,
  assertTransition,
  newId,
  type Cause,
  type Payment,
  type Plan,
  type PaymentPatch,
  type PaymentRepository,
  type Subscription,
  type SubscriptionPatch,
  type SubscriptionRepository,
  type SubscriptionStatus,
} from '../../src/index.js';
import {
  byIdAscending,
  checkCause,
  pageOf,
  replaceRow,
  uniqueViolation,
  type Now,
  type PaymentTables,
} from './memory-payment-tables.js';

const IN_FLIGHT: readonly Payment['status'][] = ['pending', 'requires_action', 'processing'];

/** The patch's fields that are set: `undefined` leaves a column as it is, as the database's UPDATE does. */
function definedFields<P extends object>(patch: P | undefined): Partial<P> {
  return Object.fromEntries(
    Object.entries(patch ?? {}).filter(([, value]) => value !== undefined),
  ) as Partial<P>;
}

/** In-memory payments and their append-only event rows, with the compare-and-set transitions. */
export function memoryPayments(tables: PaymentTables, now: Now): PaymentRepository {
  const byId = (id: string) => tables.payments.find((p) => p.id === id);
  const event = (payment: Payment, from: Payment['status'] | null, amount: number, cause: Cause) => {
    tables.paymentEvents.push({
      id: newId('paymentEvent', now()),
      paymentId: payment.id,
      accountId: payment.accountId,
      fromStatus: from,
      toStatus: payment.status,
      amount,
      cause: checkCause(cause),
      createdAt: now(),
    });
  };
  return {
    create: (input, cause) => {
      checkCause(cause);
      if (tables.payments.some((p) => p.stripeIdempotencyKey === input.stripeIdempotencyKey)) {
        return Promise.reject(uniqueViolation('payments_stripe_idempotency_key_unique'));
      }
      const at = now();
      const payment: Payment = {
        id: input.id ?? newId('payment', at),
        accountId: input.accountId,
        customerId: input.customerId,
        paymentMethodId: input.paymentMethodId ?? null,
        planId: input.planId ?? null,
        subscriptionId: input.subscriptionId ?? null,
        billingReason: input.billingReason,
        amount: input.amount,
        currency: input.currency,
        amountRefunded: 0,
        status: 'pending',
        stripePaymentIntentId: null,
        stripeIdempotencyKey: input.stripeIdempotencyKey,
        failureCode: null,
        declineCode: null,
        failureMessage: null,
        description: input.description ?? null,
        returnUrl: input.returnUrl ?? null,
        nextActionUrl: null,
        billingPeriodStart: input.renewal?.periodStart ?? null,
        billingPeriodEnd: input.renewal?.periodEnd ?? null,
        renewalAttempt: input.renewal?.attempt ?? null,
        createdAt: at,
        updatedAt: at,
      };
      tables.payments.push(payment);
      event(payment, null, 0, cause);
      return Promise.resolve(payment);
    },
    findById: (accountId, id) =>
      Promise.resolve(tables.payments.find((p) => p.accountId === accountId && p.id === id) ?? null),
    findByStripeIntentId: (intentId) =>
      Promise.resolve(tables.payments.find((p) => p.stripePaymentIntentId === intentId) ?? null),
    lockById: (id) => Promise.resolve(byId(id) ?? null),
    setStripeIntentId: (id, intentId) => {
      const payment = byId(id);
      if (
        payment === undefined ||
        (payment.stripePaymentIntentId !== null && payment.stripePaymentIntentId !== intentId)
      ) {
        return Promise.resolve(null);
      }
      if (tables.payments.some((p) => p.id !== id && p.stripePaymentIntentId === intentId)) {
        return Promise.reject(uniqueViolation('payments_stripe_payment_intent_id_unique'));
      }
      return Promise.resolve(
        replaceRow(tables.payments, { ...payment, stripePaymentIntentId: intentId, updatedAt: now() }),
      );
    },
    setPaymentMethodId: (id, paymentMethodId) => {
      const payment = byId(id);
      if (
        payment === undefined ||
        (payment.paymentMethodId !== null && payment.paymentMethodId !== paymentMethodId)
      ) {
        return Promise.resolve(null);
      }
      return Promise.resolve(replaceRow(tables.payments, { ...payment, paymentMethodId, updatedAt: now() }));
    },
    transition: (id, change, cause) => {
      assertTransition('payment', change.from, change.to);
      checkCause(cause);
      const payment = byId(id);
      if (payment === undefined || payment.status !== change.from) {
        return Promise.resolve(null);
      }
      const next = replaceRow(tables.payments, {
        ...payment,
        ...definedFields<PaymentPatch>(change.patch),
        status: change.to,
        updatedAt: now(),
      });
      event(next, change.from, change.amount ?? 0, cause);
      return Promise.resolve(next);
    },
    list: (accountId, request) =>
      Promise.resolve(
        pageOf(
          tables.payments.filter((p) => p.accountId === accountId),
          request,
        ),
      ),
    listEvents: (paymentId) => Promise.resolve(tables.paymentEvents.filter((e) => e.paymentId === paymentId)),
    findByIdAcrossAccounts: (id) => Promise.resolve(byId(id) ?? null),
    listByCustomer: (accountId, customerId, request) =>
      Promise.resolve(
        pageOf(
          tables.payments.filter((p) => p.accountId === accountId && p.customerId === customerId),
          request,
        ),
      ),
    listInFlight: (query) =>
      Promise.resolve(
        byIdAscending(
          tables.payments.filter(
            (p) =>
              IN_FLIGHT.includes(p.status) &&
              p.createdAt.getTime() < query.createdBefore.getTime() &&
              (query.afterId === undefined || p.id > query.afterId),
          ),
        ).slice(0, query.limit),
      ),
    listCreatedBetween: (query) =>
      Promise.resolve(
        byIdAscending(
          tables.payments.filter(
            (p) =>
              p.createdAt.getTime() >= query.createdAfter.getTime() &&
              p.createdAt.getTime() < query.createdBefore.getTime() &&
              (query.afterId === undefined || p.id > query.afterId),
          ),
        ).slice(0, query.limit),
      ),
    listBySubscription: (accountId, subscriptionId, limit) =>
      Promise.resolve([
        ...pageOf(
          tables.payments.filter((p) => p.accountId === accountId && p.subscriptionId === subscriptionId),
          { limit },
        ).data,
      ]),
    findRenewal: (subscriptionId, periodStart, attempt) =>
      Promise.resolve(
        tables.payments.find(
          (p) =>
            p.billingReason === 'subscription_cycle' &&
            p.subscriptionId === subscriptionId &&
            p.billingPeriodStart?.getTime() === periodStart.getTime() &&
            p.renewalAttempt === attempt,
        ) ?? null,
      ),
  };
}

/** In-memory subscriptions and their event rows; `from === to` changes fields with an event row. */
export function memorySubscriptions(
  tables: PaymentTables & { readonly plans: readonly Plan[] },
  now: Now,
): SubscriptionRepository {
  const byId = (id: string) => tables.subscriptions.find((s) => s.id === id);
  const event = (
    subscription: Subscription,
    from: Subscription['status'] | null,
    amount: number,
    cause: Cause,
  ) => {
    tables.subscriptionEvents.push({
      id: newId('subscriptionEvent', now()),
      subscriptionId: subscription.id,
      accountId: subscription.accountId,
      fromStatus: from,
      toStatus: subscription.status,
      amount,
      cause: checkCause(cause),
      createdAt: now(),
    });
  };
  return {
    create: (input, cause) => {
      checkCause(cause);
      if (input.currentPeriodEnd.getTime() <= input.currentPeriodStart.getTime()) {
        return Promise.reject(new Error('subscriptions_period_check: the period must end after it starts'));
      }
      const at = now();
      const subscription: Subscription = {
        id: input.id ?? newId('subscription', at),
        accountId: input.accountId,
        customerId: input.customerId,
        planId: input.planId,
        paymentMethodId: input.paymentMethodId ?? null,
        status: input.status,
        currentPeriodStart: input.currentPeriodStart,
        currentPeriodEnd: input.currentPeriodEnd,
        nextBillingAt: input.nextBillingAt,
        cancelAtPeriodEnd: false,
        canceledAt: null,
        endedAt: null,
        dunningAttempts: 0,
        createdAt: at,
        updatedAt: at,
      };
      tables.subscriptions.push(subscription);
      event(subscription, null, 0, cause);
      return Promise.resolve(subscription);
    },
    findById: (accountId, id) =>
      Promise.resolve(tables.subscriptions.find((s) => s.accountId === accountId && s.id === id) ?? null),
    findWithPlan: (accountId, id) => {
      const subscription = tables.subscriptions.find((s) => s.accountId === accountId && s.id === id);
      const plan = tables.plans.find((p) => p.accountId === accountId && p.id === subscription?.planId);
      return Promise.resolve(
        subscription === undefined || plan === undefined ? null : { subscription, plan },
      );
    },
    lockById: (id) => Promise.resolve(byId(id) ?? null),
    transition: (id, change, cause) => {
      if (change.from !== change.to) {
        assertTransition('subscription', change.from, change.to);
      }
      checkCause(cause);
      const subscription = byId(id);
      if (subscription === undefined || subscription.status !== change.from) {
        return Promise.resolve(null);
      }
      const next = replaceRow(tables.subscriptions, {
        ...subscription,
        ...definedFields<SubscriptionPatch>(change.patch),
        status: change.to,
        updatedAt: now(),
      });
      event(next, change.from, change.amount ?? 0, cause);
      return Promise.resolve(next);
    },
    listDue: (at, limit) =>
      Promise.resolve(
        [...tables.subscriptions]
          .filter(
            (s) =>
              (s.status === 'active' || s.status === 'past_due') &&
              s.nextBillingAt !== null &&
              s.nextBillingAt.getTime() <= at.getTime(),
          )
          .sort(
            (a, b) =>
              (a.nextBillingAt?.getTime() ?? 0) - (b.nextBillingAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1),
          )
          .slice(0, limit),
      ),
    list: (accountId, request) =>
      Promise.resolve(
        pageOf(
          tables.subscriptions.filter((s) => s.accountId === accountId),
          request,
        ),
      ),
    listEvents: (subscriptionId) =>
      Promise.resolve(tables.subscriptionEvents.filter((e) => e.subscriptionId === subscriptionId)),
    listByCustomer: (accountId, customerId, request) =>
      Promise.resolve(
        pageOf(
          tables.subscriptions.filter((s) => s.accountId === accountId && s.customerId === customerId),
          request,
        ),
      ),
    countByStatus: () => {
      const counts = Object.fromEntries(SUBSCRIPTION_STATUSES.map((status) => [status, 0])) as Record<
        SubscriptionStatus,
        number
      >;
      for (const subscription of tables.subscriptions) {
        counts[subscription.status] += 1;
      }
      return Promise.resolve(counts);
    },
    listIncompleteCreatedBefore: (createdBefore, limit) =>
      Promise.resolve(
        tables.subscriptions
          .filter((s) => s.status === 'incomplete' && s.createdAt.getTime() < createdBefore.getTime())
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
          .slice(0, limit),
      ),
  };
}
