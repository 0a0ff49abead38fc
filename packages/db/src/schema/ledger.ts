import { sql, type SQL } from 'drizzle-orm';
import { bigint, check, foreignKey, index, text, type PgColumn } from 'drizzle-orm/pg-core';
import {
  PAYMENT_STATUSES,
  REFUND_STATUSES,
  SUBSCRIPTION_STATUSES,
  type AccountId,
  type PaymentEventId,
  type PaymentId,
  type RefundEventId,
  type RefundId,
  type SubscriptionEventId,
  type SubscriptionId,
} from '@pay/core';
import { accounts } from './accounts.js';
import { isOneOf, minorUnits, pay, timestamptz } from './columns.js';
import { payments } from './payments.js';
import { refunds } from './refunds.js';
import { subscriptions } from './subscriptions.js';

/*
 * The append-only ledger (DESIGN.md §2.5): one row per state change of a payment, subscription or
 * refund, written in the same transaction as the change. The service role may only SELECT and INSERT
 * these tables (migration 0001). They live in one module because their cause columns point back at
 * payments and refunds, which would otherwise make the aggregate modules import each other.
 */

/**
 * Ids are time-ordered only to the millisecond, so two changes in one millisecond could sort either
 * way; `seq` (an identity) gives the order they were written in. Per object that is also commit order,
 * because each change holds the object's row lock (the CAS UPDATE) until it commits.
 */
function ledgerColumns() {
  return {
    seq: bigint({ mode: 'number' }).generatedAlwaysAsIdentity(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    amount: minorUnits().notNull().default(0),
    // Why the change happened (core's `Cause`), one column per kind so each can be indexed and checked.
    causeRequestId: text(),
    causeStripeEventId: text(),
    causeRefundId: text()
      .$type<RefundId>()
      .references(() => refunds.id),
    causePaymentId: text()
      .$type<PaymentId>()
      .references(() => payments.id),
    causeJob: text(),
    createdAt: timestamptz().notNull().defaultNow(),
  };
}

interface LedgerColumns {
  amount: PgColumn;
  causeRequestId: PgColumn;
  causeStripeEventId: PgColumn;
  causeRefundId: PgColumn;
  causePaymentId: PgColumn;
  causeJob: PgColumn;
}

/**
 * The checks every ledger table shares: a change always has a cause, and moves no negative amount —
 * except where `givesBack` (SQL) says the change gives money back (a refund that failed after it counted).
 */
function ledgerChecks(table: string, t: LedgerColumns, givesBack?: SQL) {
  return [
    check(
      `${table}_amount_check`,
      givesBack === undefined ? sql`${t.amount} >= 0` : sql`${t.amount} >= 0 OR ${givesBack}`,
    ),
    check(
      `${table}_cause_check`,
      sql`num_nonnulls(${t.causeRequestId}, ${t.causeStripeEventId}, ${t.causeRefundId}, ${t.causePaymentId}, ${t.causeJob}) >= 1`,
    ),
  ];
}

export const paymentEvents = pay.table(
  'payment_events',
  {
    id: text().$type<PaymentEventId>().primaryKey(),
    paymentId: text().$type<PaymentId>().notNull(),
    fromStatus: text({ enum: PAYMENT_STATUSES }),
    toStatus: text({ enum: PAYMENT_STATUSES }).notNull(),
    ...ledgerColumns(),
  },
  (t) => [
    foreignKey({
      name: 'payment_events_payment_fk',
      columns: [t.accountId, t.paymentId],
      foreignColumns: [payments.accountId, payments.id],
    }),
    index('payment_events_payment_id_seq_idx').on(t.paymentId, t.seq),
    check('payment_events_from_status_check', isOneOf(t.fromStatus, PAYMENT_STATUSES)),
    check('payment_events_to_status_check', isOneOf(t.toStatus, PAYMENT_STATUSES)),
    // A refund that failed after Stripe counted it lowers amount_refunded: the only move with a negative
    // amount, always out of a refunded state, so replaying the amounts still gives amount_refunded.
    // (`IS NOT NULL` first: a NULL would make the CHECK pass.)
    ...ledgerChecks(
      'payment_events',
      t,
      sql`${t.fromStatus} IS NOT NULL AND ${t.fromStatus} IN ('partially_refunded', 'refunded')`,
    ),
  ],
);

export const subscriptionEvents = pay.table(
  'subscription_events',
  {
    id: text().$type<SubscriptionEventId>().primaryKey(),
    subscriptionId: text().$type<SubscriptionId>().notNull(),
    fromStatus: text({ enum: SUBSCRIPTION_STATUSES }),
    toStatus: text({ enum: SUBSCRIPTION_STATUSES }).notNull(),
    ...ledgerColumns(),
  },
  (t) => [
    foreignKey({
      name: 'subscription_events_subscription_fk',
      columns: [t.accountId, t.subscriptionId],
      foreignColumns: [subscriptions.accountId, subscriptions.id],
    }),
    index('subscription_events_subscription_id_seq_idx').on(t.subscriptionId, t.seq),
    check('subscription_events_from_status_check', isOneOf(t.fromStatus, SUBSCRIPTION_STATUSES)),
    check('subscription_events_to_status_check', isOneOf(t.toStatus, SUBSCRIPTION_STATUSES)),
    ...ledgerChecks('subscription_events', t),
  ],
);

export const refundEvents = pay.table(
  'refund_events',
  {
    id: text().$type<RefundEventId>().primaryKey(),
    refundId: text().$type<RefundId>().notNull(),
    fromStatus: text({ enum: REFUND_STATUSES }),
    toStatus: text({ enum: REFUND_STATUSES }).notNull(),
    ...ledgerColumns(),
  },
  (t) => [
    foreignKey({
      name: 'refund_events_refund_fk',
      columns: [t.accountId, t.refundId],
      foreignColumns: [refunds.accountId, refunds.id],
    }),
    index('refund_events_refund_id_seq_idx').on(t.refundId, t.seq),
    check('refund_events_from_status_check', isOneOf(t.fromStatus, REFUND_STATUSES)),
    check('refund_events_to_status_check', isOneOf(t.toStatus, REFUND_STATUSES)),
    ...ledgerChecks('refund_events', t),
  ],
);
