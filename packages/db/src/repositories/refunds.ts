import { and, asc, desc, eq, gt, isNull, lt, or } from 'drizzle-orm';
import {
  assertTransition,
  newId,
  type Refund,
  type RefundEvent,
  type RefundPatch,
  type RefundRepository,
} from '@pay/core';
import type { RefundEventRow, RefundRow } from '../rows.js';
import type { Executor } from '../store.js';
import { refundEvents, refunds } from '../tables.js';
import { firstOrNull, single, toCause, ledgerColumns } from './shared.js';

const toRefund = (row: RefundRow): Refund => ({
  id: row.id,
  accountId: row.accountId,
  paymentId: row.paymentId,
  amount: row.amount,
  currency: row.currency,
  status: row.status,
  reason: row.reason,
  origin: row.origin,
  stripeRefundId: row.stripeRefundId,
  stripeIdempotencyKey: row.stripeIdempotencyKey,
  requestedBy: row.requestedBy,
  approvedBy: row.approvedBy,
  failureReason: row.failureReason,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const toRefundEvent = (row: RefundEventRow): RefundEvent => ({
  id: row.id,
  refundId: row.refundId,
  accountId: row.accountId,
  fromStatus: row.fromStatus,
  toStatus: row.toStatus,
  amount: row.amount,
  cause: toCause(row),
  createdAt: row.createdAt,
});

function patchColumns(patch: RefundPatch = {}) {
  return {
    stripeRefundId: patch.stripeRefundId,
    approvedBy: patch.approvedBy,
    failureReason: patch.failureReason,
  };
}

export function createRefundRepository(x: Executor): RefundRepository {
  return {
    /**
     * The creation event records the refund's amount as moved only when the refund is born
     * `succeeded` (learnt from Stripe after the fact); a refund that starts `pending` or
     * `requires_approval` has moved nothing yet, and its later `→ succeeded` event carries the amount.
     */
    async create(input, cause) {
      const now = new Date();
      return x.atomic(async (db) => {
        const rows = await db
          .insert(refunds)
          .values({
            id: input.id ?? newId('refund', now),
            accountId: input.accountId,
            paymentId: input.paymentId,
            amount: input.amount,
            currency: input.currency,
            status: input.status,
            origin: input.origin,
            reason: input.reason ?? null,
            stripeRefundId: input.stripeRefundId ?? null,
            stripeIdempotencyKey: input.stripeIdempotencyKey ?? null,
            requestedBy: input.requestedBy ?? null,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        const refund = single(rows, 'INSERT refunds');
        await db.insert(refundEvents).values({
          id: newId('refundEvent', now),
          refundId: refund.id,
          ...ledgerColumns({
            accountId: refund.accountId,
            from: null,
            to: refund.status,
            amount: refund.status === 'succeeded' ? refund.amount : 0,
            cause,
            at: now,
          }),
        });
        return toRefund(refund);
      });
    },

    async findById(accountId, id) {
      const rows = await x
        .db()
        .select()
        .from(refunds)
        .where(and(eq(refunds.id, id), eq(refunds.accountId, accountId)));
      return firstOrNull(rows, toRefund);
    },

    async findByStripeId(stripeRefundId) {
      const rows = await x.db().select().from(refunds).where(eq(refunds.stripeRefundId, stripeRefundId));
      return firstOrNull(rows, toRefund);
    },

    async transition(id, change, cause) {
      assertTransition('refund', change.from, change.to);
      const now = new Date();
      return x.atomic(async (db) => {
        // Compare-and-set: Stripe's `refund.updated` webhook and the request that created the refund
        // may both report its outcome. The first to move it from `from` wins; the other gets null, so
        // the refund's amount is counted once.
        const rows = await db
          .update(refunds)
          .set({ ...patchColumns(change.patch), status: change.to, updatedAt: now })
          .where(and(eq(refunds.id, id), eq(refunds.status, change.from)))
          .returning();
        const refund = rows[0];
        if (refund === undefined) {
          return null;
        }
        await db.insert(refundEvents).values({
          id: newId('refundEvent', now),
          refundId: refund.id,
          ...ledgerColumns({
            accountId: refund.accountId,
            from: change.from,
            to: change.to,
            amount: change.amount,
            cause,
            at: now,
          }),
        });
        return toRefund(refund);
      });
    },

    async listByPayment(accountId, paymentId) {
      const rows = await x
        .db()
        .select()
        .from(refunds)
        .where(and(eq(refunds.accountId, accountId), eq(refunds.paymentId, paymentId)))
        .orderBy(desc(refunds.id));
      return rows.map(toRefund);
    },

    async listEvents(refundId) {
      const rows = await x
        .db()
        .select()
        .from(refundEvents)
        .where(eq(refundEvents.refundId, refundId))
        .orderBy(asc(refundEvents.seq));
      return rows.map(toRefundEvent);
    },

    async setStripeRefundId(id, stripeRefundId) {
      // Compare-and-set like payments' setStripeIntentId: the request that made the refund and the
      // webhook announcing it may both record the id; the same id again is a no-op that returns the row.
      const rows = await x
        .db()
        .update(refunds)
        .set({ stripeRefundId, updatedAt: new Date() })
        .where(
          and(
            eq(refunds.id, id),
            or(isNull(refunds.stripeRefundId), eq(refunds.stripeRefundId, stripeRefundId)),
          ),
        )
        .returning();
      return firstOrNull(rows, toRefund);
    },

    async findByIdAcrossAccounts(id) {
      const rows = await x.db().select().from(refunds).where(eq(refunds.id, id));
      return firstOrNull(rows, toRefund);
    },

    async lockById(id) {
      const rows = await x.db().select().from(refunds).where(eq(refunds.id, id)).for('update');
      return firstOrNull(rows, toRefund);
    },

    async listInFlight(query) {
      const rows = await x
        .db()
        .select()
        .from(refunds)
        .where(
          and(
            eq(refunds.origin, 'pay'),
            eq(refunds.status, 'pending'),
            lt(refunds.updatedAt, query.updatedBefore),
            query.afterId === undefined ? undefined : gt(refunds.id, query.afterId),
          ),
        )
        .orderBy(asc(refunds.id))
        .limit(query.limit);
      return rows.map(toRefund);
    },
  };
}
