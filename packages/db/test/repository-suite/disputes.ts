import type { DisputeReport, Repositories } from '@pay/core';
import { seed, unique } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

async function succeededPayment(repos: Repositories) {
  const s = await seed(repos);
  const created = await repos.payments.create(
    {
      accountId: s.account.id,
      customerId: s.customer.id,
      billingReason: 'manual',
      amount: 4_000,
      currency: 'usd',
      stripeIdempotencyKey: unique('idem'),
    },
    { requestId: 'req' },
  );
  const payment = await repos.payments.transition(
    created.id,
    { from: 'pending', to: 'succeeded', amount: 4_000 },
    { job: 'test' },
  );
  if (payment === null) {
    throw new Error('setup: the payment did not succeed');
  }
  return payment;
}

export function disputeTests(ctx: SuiteContext): void {
  describe('disputes', () => {
    async function report(overrides: Partial<DisputeReport> = {}): Promise<DisputeReport> {
      const payment = await succeededPayment(ctx.repos());
      return {
        accountId: payment.accountId,
        paymentId: payment.id,
        stripeDisputeId: unique('dp'),
        stripeChargeId: unique('ch'),
        amount: 4_000,
        currency: 'usd',
        reason: 'fraudulent',
        status: 'needs_response',
        stripeCreatedAt: new Date('2026-03-01T10:00:00Z'),
        reportedAt: new Date('2026-03-01T10:00:00Z'),
        ...overrides,
      };
    }

    it('stores a dispute on first report and moves it only for a newer one', async () => {
      const repos = ctx.repos();
      const first = await report();
      const created = await repos.disputes.upsertByStripeId(first);
      expect(created).toMatchObject({ previous: null, changed: true });
      expect(created.dispute).toMatchObject({
        paymentId: first.paymentId,
        stripeDisputeId: first.stripeDisputeId,
        status: 'needs_response',
        amount: 4_000,
        stripeUpdatedAt: first.reportedAt,
      });
      expect(created.dispute.id).toMatch(/^dspt_/);

      const closed = await repos.disputes.upsertByStripeId({
        ...first,
        status: 'lost',
        reportedAt: new Date('2026-03-05T10:00:00Z'),
      });
      expect(closed).toMatchObject({ changed: true, previous: { status: 'needs_response' } });
      expect(closed.dispute).toMatchObject({ id: created.dispute.id, status: 'lost' });

      // An older report (the `updated` event arriving late) changes nothing.
      const stale = await repos.disputes.upsertByStripeId({
        ...first,
        status: 'under_review',
        reportedAt: new Date('2026-03-03T10:00:00Z'),
      });
      expect(stale).toMatchObject({ changed: false, dispute: { status: 'lost' } });

      // Within one second, the status further along wins whichever arrives last.
      const sameSecond = await repos.disputes.upsertByStripeId({
        ...first,
        status: 'needs_response',
        reportedAt: new Date('2026-03-05T10:00:00.400Z'),
      });
      expect(sameSecond).toMatchObject({ changed: false, dispute: { status: 'lost' } });

      expect(await repos.disputes.findByStripeId(first.stripeDisputeId)).toMatchObject({ status: 'lost' });
      expect(await repos.disputes.findById(first.accountId, created.dispute.id)).toMatchObject({
        status: 'lost',
      });
      expect(await repos.disputes.listByPayment(first.accountId, first.paymentId)).toHaveLength(1);
      const other = await seed(repos);
      expect(await repos.disputes.findById(other.account.id, created.dispute.id)).toBeNull();
    });

    it('stores concurrent first reports of one dispute as one row, the newer status winning', async () => {
      const first = await report();
      const results = await Promise.all(
        (['needs_response', 'under_review', 'won'] as const).map((status, i) =>
          ctx.db().store.transaction((tx) =>
            tx.disputes.upsertByStripeId({
              ...first,
              status,
              reportedAt: new Date(first.reportedAt.getTime() + i * 1_000),
            }),
          ),
        ),
      );
      expect(results.filter((r) => r.previous === null)).toHaveLength(1);
      expect(new Set(results.map((r) => r.dispute.id)).size).toBe(1);
      expect(await ctx.repos().disputes.findByStripeId(first.stripeDisputeId)).toMatchObject({
        status: 'won',
      });
    });
  });

  describe('refunds: recording the Stripe id', () => {
    it('records a refund’s Stripe id once; the same id again is a no-op, another id is refused', async () => {
      const repos = ctx.repos();
      const payment = await succeededPayment(repos);
      const refund = await repos.refunds.create(
        {
          accountId: payment.accountId,
          paymentId: payment.id,
          amount: 1_000,
          currency: 'usd',
          status: 'pending',
          origin: 'pay',
          stripeIdempotencyKey: unique('rk'),
        },
        { requestId: 'req' },
      );
      const stripeRefundId = unique('re');
      expect(await repos.refunds.setStripeRefundId(refund.id, stripeRefundId)).toMatchObject({
        id: refund.id,
        stripeRefundId,
        status: 'pending',
      });
      expect(await repos.refunds.setStripeRefundId(refund.id, stripeRefundId)).toMatchObject({
        stripeRefundId,
      });
      expect(await repos.refunds.setStripeRefundId(refund.id, unique('re'))).toBeNull();
      expect(await repos.refunds.findByStripeId(stripeRefundId)).toMatchObject({ id: refund.id });
      // No status change, so no event row beyond the creation.
      expect(await repos.refunds.listEvents(refund.id)).toHaveLength(1);
    });
  });
}
