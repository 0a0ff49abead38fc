import { sql } from 'drizzle-orm';
import { check, foreignKey, index, text, unique } from 'drizzle-orm/pg-core';
import { DISPUTE_STATUSES, type AccountId, type DisputeId, type PaymentId } from '@pay/core';
import { accounts } from './accounts.js';
import { currency, isCurrencyCode, isOneOf, minorUnits, pay, timestamps, timestamptz } from './columns.js';
import { payments } from './payments.js';

/** Disputes (chargebacks and inquiries) the card holder's bank opened on pay's payments, learnt by webhook. */
export const disputes = pay.table(
  'disputes',
  {
    id: text().$type<DisputeId>().primaryKey(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    paymentId: text().$type<PaymentId>().notNull(),
    // Webhooks upsert disputes by this id, so a dispute announced twice is stored once.
    stripeDisputeId: text().notNull().unique('disputes_stripe_dispute_id_unique'),
    stripeChargeId: text().notNull(),
    amount: minorUnits().notNull(),
    currency: currency().notNull(),
    reason: text().notNull(),
    // Stripe's own statuses: the dispute is Stripe's object, pay only mirrors it.
    status: text({ enum: DISPUTE_STATUSES }).notNull(),
    stripeCreatedAt: timestamptz().notNull(),
    // When Stripe reported the status held here (the event's `created`): an older report never
    // overwrites a newer one, whatever order the events arrive in.
    stripeUpdatedAt: timestamptz().notNull(),
    ...timestamps(),
  },
  (t) => [
    foreignKey({
      name: 'disputes_payment_fk',
      columns: [t.accountId, t.paymentId],
      foreignColumns: [payments.accountId, payments.id],
    }),
    unique('disputes_account_id_id_unique').on(t.accountId, t.id),
    index('disputes_payment_id_idx').on(t.paymentId),
    check('disputes_status_check', isOneOf(t.status, DISPUTE_STATUSES)),
    check('disputes_amount_check', sql`${t.amount} > 0`),
    check('disputes_currency_check', isCurrencyCode(t.currency)),
  ],
);
