import { sql } from 'drizzle-orm';
import { check, foreignKey, index, text, unique } from 'drizzle-orm/pg-core';
import { REFUND_ORIGINS, REFUND_STATUSES, type AccountId, type PaymentId, type RefundId } from '@pay/core';
import { accounts } from './accounts.js';
import { currency, isCurrencyCode, isOneOf, minorUnits, pay, timestamps } from './columns.js';
import { payments } from './payments.js';

/** Money given back from a payment, made through pay or learnt from Stripe (`origin`). */
export const refunds = pay.table(
  'refunds',
  {
    id: text().$type<RefundId>().primaryKey(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    paymentId: text().$type<PaymentId>().notNull(),
    amount: minorUnits().notNull(),
    currency: currency().notNull(),
    status: text({ enum: REFUND_STATUSES }).notNull(),
    reason: text(),
    origin: text({ enum: REFUND_ORIGINS }).notNull(),
    // Webhooks upsert refunds by this id, so a refund announced twice is stored once.
    stripeRefundId: text().unique('refunds_stripe_refund_id_unique'),
    stripeIdempotencyKey: text().unique('refunds_stripe_idempotency_key_unique'),
    requestedBy: text(),
    approvedBy: text(),
    failureReason: text(),
    ...timestamps(),
  },
  (t) => [
    foreignKey({
      name: 'refunds_payment_fk',
      columns: [t.accountId, t.paymentId],
      foreignColumns: [payments.accountId, payments.id],
    }),
    unique('refunds_account_id_id_unique').on(t.accountId, t.id),
    index('refunds_payment_id_idx').on(t.paymentId),
    // The recovery job's sweep of refunds pay sent and Stripe has not settled.
    index('refunds_in_flight_idx')
      .on(t.updatedAt)
      .where(sql`${t.status} = 'pending' AND ${t.origin} = 'pay'`),
    check('refunds_status_check', isOneOf(t.status, REFUND_STATUSES)),
    check('refunds_origin_check', isOneOf(t.origin, REFUND_ORIGINS)),
    check('refunds_amount_check', sql`${t.amount} > 0`),
    check('refunds_currency_check', isCurrencyCode(t.currency)),
  ],
);
