import { sql } from 'drizzle-orm';
import { boolean, check, foreignKey, index, integer, text, unique } from 'drizzle-orm/pg-core';
import {
  SUBSCRIPTION_STATUSES,
  type AccountId,
  type CustomerId,
  type PaymentMethodId,
  type PlanId,
  type SubscriptionId,
} from '@pay/core';
import { accounts } from './accounts.js';
import { isOneOf, pay, timestamps, timestamptz } from './columns.js';
import { customers, paymentMethods } from './customers.js';
import { plans } from './plans.js';

/** A customer's subscription to a plan, with pay's own billing calendar (`next_billing_at`). */
export const subscriptions = pay.table(
  'subscriptions',
  {
    id: text().$type<SubscriptionId>().primaryKey(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    customerId: text().$type<CustomerId>().notNull(),
    planId: text().$type<PlanId>().notNull(),
    paymentMethodId: text().$type<PaymentMethodId>(),
    status: text({ enum: SUBSCRIPTION_STATUSES }).notNull(),
    currentPeriodStart: timestamptz().notNull(),
    currentPeriodEnd: timestamptz().notNull(),
    nextBillingAt: timestamptz(),
    cancelAtPeriodEnd: boolean().notNull().default(false),
    canceledAt: timestamptz(),
    endedAt: timestamptz(),
    dunningAttempts: integer().notNull().default(0),
    ...timestamps(),
  },
  (t) => [
    // Composite keys: the customer, plan and card must all belong to the subscription's account.
    foreignKey({
      name: 'subscriptions_customer_fk',
      columns: [t.accountId, t.customerId],
      foreignColumns: [customers.accountId, customers.id],
    }),
    foreignKey({
      name: 'subscriptions_plan_fk',
      columns: [t.accountId, t.planId],
      foreignColumns: [plans.accountId, plans.id],
    }),
    foreignKey({
      name: 'subscriptions_payment_method_fk',
      columns: [t.accountId, t.paymentMethodId],
      foreignColumns: [paymentMethods.accountId, paymentMethods.id],
    }),
    unique('subscriptions_account_id_id_unique').on(t.accountId, t.id),
    // The renewal job's scan: only live subscriptions are ever due.
    // A user's subscriptions, newest first (GET /subscriptions?user_id=…, pay subscription-info).
    index('subscriptions_account_id_customer_id_id_idx').on(t.accountId, t.customerId, t.id),
    index('subscriptions_next_billing_at_idx')
      .on(t.nextBillingAt)
      .where(sql`${t.status} IN ('active', 'past_due')`),
    check('subscriptions_status_check', isOneOf(t.status, SUBSCRIPTION_STATUSES)),
    check('subscriptions_period_check', sql`${t.currentPeriodEnd} > ${t.currentPeriodStart}`),
    check('subscriptions_dunning_attempts_check', sql`${t.dunningAttempts} >= 0`),
  ],
);
