import { and, desc, eq } from 'drizzle-orm';
import { InternalError, isNewerDisputeReport, newId, type Dispute, type DisputeRepository } from '@pay/core';
import type { DisputeRow } from '../rows.js';
import type { Executor } from '../store.js';
import { disputes } from '../tables.js';
import { firstOrNull, single } from './shared.js';

const toDispute = (row: DisputeRow): Dispute => ({
  id: row.id,
  accountId: row.accountId,
  paymentId: row.paymentId,
  stripeDisputeId: row.stripeDisputeId,
  stripeChargeId: row.stripeChargeId,
  amount: row.amount,
  currency: row.currency,
  reason: row.reason,
  status: row.status,
  stripeCreatedAt: row.stripeCreatedAt,
  stripeUpdatedAt: row.stripeUpdatedAt,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

export function createDisputeRepository(x: Executor): DisputeRepository {
  return {
    async upsertByStripeId(report) {
      const now = new Date();
      return x.atomic(async (db) => {
        const inserted = await db
          .insert(disputes)
          .values({
            id: newId('dispute', now),
            accountId: report.accountId,
            paymentId: report.paymentId,
            stripeDisputeId: report.stripeDisputeId,
            stripeChargeId: report.stripeChargeId,
            amount: report.amount,
            currency: report.currency,
            reason: report.reason,
            status: report.status,
            stripeCreatedAt: report.stripeCreatedAt,
            stripeUpdatedAt: report.reportedAt,
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoNothing({ target: disputes.stripeDisputeId })
          .returning();
        if (inserted[0] !== undefined) {
          return { dispute: toDispute(inserted[0]), previous: null, changed: true };
        }
        // Two workers may hold reports of one dispute: the row lock makes the second compare its report
        // with what the first wrote, so the newer report wins whichever commits first.
        const locked = await db
          .select()
          .from(disputes)
          .where(eq(disputes.stripeDisputeId, report.stripeDisputeId))
          .for('update');
        const stored = locked[0];
        if (stored === undefined) {
          throw new InternalError('A dispute conflicted on its Stripe id but cannot be read back.', {
            context: { stripeDisputeId: report.stripeDisputeId },
          });
        }
        const previous = toDispute(stored);
        if (!isNewerDisputeReport(previous, report)) {
          return { dispute: previous, previous, changed: false };
        }
        const rows = await db
          .update(disputes)
          .set({
            amount: report.amount,
            reason: report.reason,
            status: report.status,
            stripeUpdatedAt: report.reportedAt,
            updatedAt: now,
          })
          .where(eq(disputes.id, stored.id))
          .returning();
        return { dispute: toDispute(single(rows, 'UPDATE disputes')), previous, changed: true };
      });
    },

    async findByStripeId(stripeDisputeId) {
      const rows = await x.db().select().from(disputes).where(eq(disputes.stripeDisputeId, stripeDisputeId));
      return firstOrNull(rows, toDispute);
    },

    async findById(accountId, id) {
      const rows = await x
        .db()
        .select()
        .from(disputes)
        .where(and(eq(disputes.id, id), eq(disputes.accountId, accountId)));
      return firstOrNull(rows, toDispute);
    },

    async listByPayment(accountId, paymentId) {
      const rows = await x
        .db()
        .select()
        .from(disputes)
        .where(and(eq(disputes.accountId, accountId), eq(disputes.paymentId, paymentId)))
        .orderBy(desc(disputes.id));
      return rows.map(toDispute);
    },
  };
}
