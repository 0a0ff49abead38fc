import { sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, text, unique, uniqueIndex } from 'drizzle-orm/pg-core';
import {
  BILLING_REASONS,
  PAYMENT_STATUSES,
  type AccountId,
  type CustomerId,
  type PaymentId,
  type PaymentMethodId,
  type PlanId,
  type SubscriptionId,
} from '@pay/core';
import { accounts } from './accounts.js';
import { currency, isCurrencyCode, isOneOf, minorUnits, pay, timestamps, timestamptz } from './columns.js';
import { customers, paymentMethods } from './customers.js';
import { plans } from './plans.js';
import { subscriptions } from './subscriptions.js';

/** One attempt to take money. `amount_refunded` is set from Stripe's figures, never incremented. */
export const payments = pay.table(
  'payments',
  {
    id: text().$type<PaymentId>().primaryKey(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    customerId: text().$type<CustomerId>().notNull(),
    paymentMethodId: text().$type<PaymentMethodId>(),
    planId: text().$type<PlanId>(),
    subscriptionId: text().$type<SubscriptionId>(),
    billingReason: text({ enum: BILLING_REASONS }).notNull(),
    amount: minorUnits().notNull(),
    currency: currency().notNull(),
    amountRefunded: minorUnits().notNull().default(0),
    status: text({ enum: PAYMENT_STATUSES }).notNull().default('pending'),
    stripePaymentIntentId: text().unique('payments_stripe_payment_intent_id_unique'),
    // Derived from the payment, passed to Stripe as its Idempotency-Key: unique, so two payment rows
    // can never share one Stripe charge.
    stripeIdempotencyKey: text().notNull().unique('payments_stripe_idempotency_key_unique'),
    failureCode: text(),
    declineCode: text(),
    failureMessage: text(),
    description: text(),
    // The caller's page the card holder returns to after 3-D Secure (checked against
    // PAY_RETURN_URL_ORIGINS before it is stored).
    returnUrl: text(),
    // Stripe's 3-D Secure page while the payment is `requires_action`, so a read can hand it out again.
    nextActionUrl: text(),
    // A renewal (`subscription_cycle`) pays for one period of its subscription; dunning retries of that
    // period are attempts 1, 2, … (the first try is 0). Null for every other payment.
    billingPeriodStart: timestamptz(),
    billingPeriodEnd: timestamptz(),
    renewalAttempt: integer(),
    ...timestamps(),
  },
  (t) => [
    // Composite keys: everything a payment points at belongs to the payment's account.
    foreignKey({
      name: 'payments_customer_fk',
      columns: [t.accountId, t.customerId],
      foreignColumns: [customers.accountId, customers.id],
    }),
    foreignKey({
      name: 'payments_payment_method_fk',
      columns: [t.accountId, t.paymentMethodId],
      foreignColumns: [paymentMethods.accountId, paymentMethods.id],
    }),
    foreignKey({
      name: 'payments_plan_fk',
      columns: [t.accountId, t.planId],
      foreignColumns: [plans.accountId, plans.id],
    }),
    foreignKey({
      name: 'payments_subscription_fk',
      columns: [t.accountId, t.subscriptionId],
      foreignColumns: [subscriptions.accountId, subscriptions.id],
    }),
    unique('payments_account_id_id_unique').on(t.accountId, t.id),
    // A user's payments, newest page by page (GET /payments?user_id=…).
    index('payments_account_id_customer_id_id_idx').on(t.accountId, t.customerId, t.id),
    // A subscription's payments, newest first (its view's recent payments, expiring an incomplete one).
    index('payments_account_id_subscription_id_id_idx')
      .on(t.accountId, t.subscriptionId, t.id)
      .where(sql`${t.subscriptionId} IS NOT NULL`),
    // The recovery job's sweep of payments still waiting on Stripe.
    index('payments_in_flight_idx')
      .on(t.createdAt)
      .where(sql`${t.status} IN ('pending', 'requires_action', 'processing')`),
    // Two schedulers, a crash or a retry can never make two payments for one try of one period.
    uniqueIndex('payments_renewal_unique')
      .on(t.subscriptionId, t.billingPeriodStart, t.renewalAttempt)
      .where(sql`${t.billingReason} = 'subscription_cycle'`),
    // A renewal names its period and try; nothing else does.
    check(
      'payments_renewal_check',
      sql`(${t.billingReason} = 'subscription_cycle') = (${t.subscriptionId} IS NOT NULL AND ${t.billingPeriodStart} IS NOT NULL AND ${t.billingPeriodEnd} IS NOT NULL AND ${t.renewalAttempt} IS NOT NULL)`,
    ),
    check('payments_status_check', isOneOf(t.status, PAYMENT_STATUSES)),
    check('payments_billing_reason_check', isOneOf(t.billingReason, BILLING_REASONS)),
    check('payments_amount_check', sql`${t.amount} > 0`),
    check('payments_currency_check', isCurrencyCode(t.currency)),
    // Invariant 6 at the last line of defence: refunds never exceed what was captured.
    check('payments_amount_refunded_check', sql`${t.amountRefunded} BETWEEN 0 AND ${t.amount}`),
  ],
);
