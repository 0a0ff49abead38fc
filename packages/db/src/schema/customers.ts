import { sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, text, unique } from 'drizzle-orm/pg-core';
import type { AccountId, CustomerId, PaymentMethodId } from '@pay/core';
import { accounts } from './accounts.js';
import { pay, timestamptz } from './columns.js';

/** The caller's end users (`user_id` is opaque to pay), one per (account, user). */
export const customers = pay.table(
  'customers',
  {
    id: text().$type<CustomerId>().primaryKey(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    userId: text().notNull(),
    email: text(),
    stripeCustomerId: text().unique('customers_stripe_customer_id_unique'),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    unique('customers_account_id_user_id_unique').on(t.accountId, t.userId),
    // Serves the account-scoped lists and is the target of composite foreign keys: a payment or a
    // card can only point at a customer of its own account.
    unique('customers_account_id_id_unique').on(t.accountId, t.id),
    check('customers_user_id_check', sql`length(${t.userId}) BETWEEN 1 AND 255`),
  ],
);

/** Cards saved at Stripe. Brand, last4 and expiry only: never a card number or CVC (DESIGN.md §2.2). */
export const paymentMethods = pay.table(
  'payment_methods',
  {
    id: text().$type<PaymentMethodId>().primaryKey(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    customerId: text().$type<CustomerId>().notNull(),
    stripePaymentMethodId: text().notNull().unique('payment_methods_stripe_payment_method_id_unique'),
    brand: text().notNull(),
    last4: text().notNull(),
    expMonth: integer().notNull(),
    expYear: integer().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      name: 'payment_methods_customer_fk',
      columns: [t.accountId, t.customerId],
      foreignColumns: [customers.accountId, customers.id],
    }),
    unique('payment_methods_account_id_id_unique').on(t.accountId, t.id),
    index('payment_methods_account_id_customer_id_idx').on(t.accountId, t.customerId),
    check('payment_methods_last4_check', sql`${t.last4} ~ '^[0-9]{4}$'`),
    check('payment_methods_exp_month_check', sql`${t.expMonth} BETWEEN 1 AND 12`),
    check('payment_methods_exp_year_check', sql`${t.expYear} BETWEEN 2000 AND 2200`),
  ],
);
