import { and, asc, desc, eq, gt, gte, isNull, lt, or, sql } from 'drizzle-orm';
import {
  assertTransition,
  newId,
  type Payment,
  type PaymentEvent,
  type PaymentPatch,
  type PaymentStatus,
  type PaymentRepository,
} from '@pay/core';
import type { PaymentEventRow, PaymentRow } from '../rows.js';
import type { Executor } from '../store.js';
import { paymentEvents, payments } from '../tables.js';
import { firstOrNull, olderThan, pageFetchSize, single, toCause, toPage, ledgerColumns } from './shared.js';

const toPayment = (row: PaymentRow): Payment => ({
  id: row.id,
  accountId: row.accountId,
  customerId: row.customerId,
  paymentMethodId: row.paymentMethodId,
  planId: row.planId,
  subscriptionId: row.subscriptionId,
  billingReason: row.billingReason,
  amount: row.amount,
  currency: row.currency,
  amountRefunded: row.amountRefunded,
  status: row.status,
  stripePaymentIntentId: row.stripePaymentIntentId,
  stripeIdempotencyKey: row.stripeIdempotencyKey,
  failureCode: row.failureCode,
  declineCode: row.declineCode,
  failureMessage: row.failureMessage,
  description: row.description,
  returnUrl: row.returnUrl,
  nextActionUrl: row.nextActionUrl,
  billingPeriodStart: row.billingPeriodStart,
  billingPeriodEnd: row.billingPeriodEnd,
  renewalAttempt: row.renewalAttempt,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const toPaymentEvent = (row: PaymentEventRow): PaymentEvent => ({
  id: row.id,
  paymentId: row.paymentId,
  accountId: row.accountId,
  fromStatus: row.fromStatus,
  toStatus: row.toStatus,
  amount: row.amount,
  cause: toCause(row),
  createdAt: row.createdAt,
});

/** The columns a transition may set: named one by one, so no stray key of the patch reaches the row. */
function patchColumns(patch: PaymentPatch = {}) {
  return {
    amountRefunded: patch.amountRefunded,
    stripePaymentIntentId: patch.stripePaymentIntentId,
    paymentMethodId: patch.paymentMethodId,
    failureCode: patch.failureCode,
    declineCode: patch.declineCode,
    failureMessage: patch.failureMessage,
    nextActionUrl: patch.nextActionUrl,
  };
}

export function createPaymentRepository(x: Executor): PaymentRepository {
  return {
    async create(input, cause) {
      const now = new Date();
      const id = input.id ?? newId('payment', now);
      return x.atomic(async (db) => {
        // Both INSERTs go out in one round trip (pipelined on the transaction's connection). The server
        // runs them in order, and when the first fails the transaction fails, the second with it.
        const [rows] = await Promise.all([
          db
            .insert(payments)
            .values({
              id,
              accountId: input.accountId,
              customerId: input.customerId,
              paymentMethodId: input.paymentMethodId ?? null,
              planId: input.planId ?? null,
              subscriptionId: input.subscriptionId ?? null,
              billingReason: input.billingReason,
              amount: input.amount,
              currency: input.currency,
              status: 'pending',
              stripeIdempotencyKey: input.stripeIdempotencyKey,
              description: input.description ?? null,
              returnUrl: input.returnUrl ?? null,
              billingPeriodStart: input.renewal?.periodStart ?? null,
              billingPeriodEnd: input.renewal?.periodEnd ?? null,
              renewalAttempt: input.renewal?.attempt ?? null,
              createdAt: now,
              updatedAt: now,
            })
            .returning(),
          db.insert(paymentEvents).values({
            id: newId('paymentEvent', now),
            paymentId: id,
            ...ledgerColumns<PaymentStatus>({
              accountId: input.accountId,
              from: null,
              to: 'pending',
              cause,
              at: now,
            }),
          }),
        ]);
        return toPayment(single(rows, 'INSERT payments'));
      });
    },

    async findById(accountId, id) {
      const rows = await x
        .db()
        .select()
        .from(payments)
        .where(and(eq(payments.id, id), eq(payments.accountId, accountId)));
      return firstOrNull(rows, toPayment);
    },

    async findByStripeIntentId(stripePaymentIntentId) {
      const rows = await x
        .db()
        .select()
        .from(payments)
        .where(eq(payments.stripePaymentIntentId, stripePaymentIntentId));
      return firstOrNull(rows, toPayment);
    },

    async lockById(id) {
      const rows = await x.db().select().from(payments).where(eq(payments.id, id)).for('update');
      return firstOrNull(rows, toPayment);
    },

    async setStripeIntentId(id, stripePaymentIntentId) {
      // Compare-and-set: a request and its retry (or the recovery job) may both learn an intent id.
      // The first recorded wins; the same id again is a no-op that returns the row.
      const rows = await x
        .db()
        .update(payments)
        .set({ stripePaymentIntentId, updatedAt: new Date() })
        .where(
          and(
            eq(payments.id, id),
            or(
              isNull(payments.stripePaymentIntentId),
              eq(payments.stripePaymentIntentId, stripePaymentIntentId),
            ),
          ),
        )
        .returning();
      return firstOrNull(rows, toPayment);
    },

    async transition(id, change, cause) {
      assertTransition('payment', change.from, change.to);
      const now = new Date();
      return x.atomic(async (db) => {
        // Compare-and-set on the status. A webhook, the request that started the payment and the
        // recovery job may all try to move the same payment at once; each read it as `from`, but only
        // the first UPDATE still matches `status = from` (the others block on its row lock, then
        // re-check and match nothing). The losers get null instead of applying a stale transition —
        // a late `payment_failed` can never undo `succeeded`.
        const rows = await db
          .update(payments)
          .set({ ...patchColumns(change.patch), status: change.to, updatedAt: now })
          .where(and(eq(payments.id, id), eq(payments.status, change.from)))
          .returning();
        const payment = rows[0];
        if (payment === undefined) {
          return null;
        }
        await db.insert(paymentEvents).values({
          id: newId('paymentEvent', now),
          paymentId: payment.id,
          ...ledgerColumns({
            accountId: payment.accountId,
            from: change.from,
            to: change.to,
            amount: change.amount,
            cause,
            at: now,
          }),
        });
        return toPayment(payment);
      });
    },

    async list(accountId, page) {
      const rows = await x
        .db()
        .select()
        .from(payments)
        .where(and(eq(payments.accountId, accountId), olderThan(payments.id, page)))
        .orderBy(desc(payments.id))
        .limit(pageFetchSize(page));
      return toPage(rows, page, toPayment);
    },

    async listEvents(paymentId) {
      const rows = await x
        .db()
        .select()
        .from(paymentEvents)
        .where(eq(paymentEvents.paymentId, paymentId))
        .orderBy(asc(paymentEvents.seq));
      return rows.map(toPaymentEvent);
    },

    async findByIdAcrossAccounts(id) {
      const rows = await x.db().select().from(payments).where(eq(payments.id, id));
      return firstOrNull(rows, toPayment);
    },

    async setPaymentMethodId(id, paymentMethodId) {
      // Compare-and-set like setStripeIntentId: a retry of the flow records the same card again.
      const rows = await x
        .db()
        .update(payments)
        .set({ paymentMethodId, updatedAt: new Date() })
        .where(
          and(
            eq(payments.id, id),
            or(isNull(payments.paymentMethodId), eq(payments.paymentMethodId, paymentMethodId)),
          ),
        )
        .returning();
      return firstOrNull(rows, toPayment);
    },

    async listByCustomer(accountId, customerId, page) {
      const rows = await x
        .db()
        .select()
        .from(payments)
        .where(
          and(
            eq(payments.accountId, accountId),
            eq(payments.customerId, customerId),
            olderThan(payments.id, page),
          ),
        )
        .orderBy(desc(payments.id))
        .limit(pageFetchSize(page));
      return toPage(rows, page, toPayment);
    },

    async listInFlight(query) {
      // The status predicate is spelled exactly as payments_in_flight_idx's (literals, not parameters),
      // so the planner can use that partial index even for a generic prepared plan.
      const rows = await x
        .db()
        .select()
        .from(payments)
        .where(
          and(
            sql`${payments.status} IN ('pending', 'requires_action', 'processing')`,
            lt(payments.createdAt, query.createdBefore),
            query.afterId === undefined ? undefined : gt(payments.id, query.afterId),
          ),
        )
        .orderBy(asc(payments.id))
        .limit(query.limit);
      return rows.map(toPayment);
    },

    async listCreatedBetween(query) {
      const rows = await x
        .db()
        .select()
        .from(payments)
        .where(
          and(
            gte(payments.createdAt, query.createdAfter),
            lt(payments.createdAt, query.createdBefore),
            query.afterId === undefined ? undefined : gt(payments.id, query.afterId),
          ),
        )
        .orderBy(asc(payments.id))
        .limit(query.limit);
      return rows.map(toPayment);
    },

    async listBySubscription(accountId, subscriptionId, limit) {
      const rows = await x
        .db()
        .select()
        .from(payments)
        .where(and(eq(payments.accountId, accountId), eq(payments.subscriptionId, subscriptionId)))
        .orderBy(desc(payments.id))
        .limit(limit);
      return rows.map(toPayment);
    },

    async findRenewal(subscriptionId, periodStart, attempt) {
      // The billing reason is spelled as payments_renewal_unique's predicate, so the lookup is that index's.
      const rows = await x
        .db()
        .select()
        .from(payments)
        .where(
          and(
            sql`${payments.billingReason} = 'subscription_cycle'`,
            eq(payments.subscriptionId, subscriptionId),
            eq(payments.billingPeriodStart, periodStart),
            eq(payments.renewalAttempt, attempt),
          ),
        );
      return firstOrNull(rows, toPayment);
    },
  };
}
