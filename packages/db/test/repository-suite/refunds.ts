import { IllegalTransitionError, newId, type Refund, type Repositories } from '@pay/core';
import { deferred, seed, sleep, unique } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

async function succeededPayment(repos: Repositories) {
  const s = await seed(repos);
  const created = await repos.payments.create(
    {
      accountId: s.account.id,
      customerId: s.customer.id,
      billingReason: 'manual',
      amount: 5_000,
      currency: 'usd',
      stripeIdempotencyKey: unique('idem'),
    },
    { requestId: 'req' },
  );
  const payment = await repos.payments.transition(
    created.id,
    { from: 'pending', to: 'succeeded', amount: 5_000 },
    { job: 'test' },
  );
  if (payment === null) {
    throw new Error('setup: the payment did not succeed');
  }
  return { s, payment };
}

export function refundTests(ctx: SuiteContext): void {
  describe('refunds', () => {
    it('creates a pending refund with a creation event that moved nothing yet', async () => {
      const { s, payment } = await succeededPayment(ctx.repos());
      const refund = await ctx.repos().refunds.create(
        {
          accountId: s.account.id,
          paymentId: payment.id,
          amount: 2_000,
          currency: 'usd',
          status: 'pending',
          origin: 'pay',
          reason: 'requested_by_customer',
          stripeIdempotencyKey: unique('rfidem'),
          requestedBy: 'key_admin',
        },
        { requestId: 'req_refund' },
      );
      expect(refund).toMatchObject({
        paymentId: payment.id,
        amount: 2_000,
        status: 'pending',
        origin: 'pay',
        reason: 'requested_by_customer',
        stripeRefundId: null,
        requestedBy: 'key_admin',
        approvedBy: null,
        failureReason: null,
      });
      expect(await ctx.repos().refunds.listEvents(refund.id)).toEqual([
        expect.objectContaining({
          fromStatus: null,
          toStatus: 'pending',
          amount: 0,
          cause: { requestId: 'req_refund' },
        }),
      ]);
    });

    it('records the amount in the creation event of a refund learnt as already succeeded', async () => {
      const { s, payment } = await succeededPayment(ctx.repos());
      const stripeRefundId = unique('re');
      const refund = await ctx.repos().refunds.create(
        {
          accountId: s.account.id,
          paymentId: payment.id,
          amount: 700,
          currency: 'usd',
          status: 'succeeded',
          origin: 'stripe',
          stripeRefundId,
        },
        { stripeEventId: 'evt_refund' },
      );
      expect((await ctx.repos().refunds.listEvents(refund.id))[0]).toMatchObject({
        toStatus: 'succeeded',
        amount: 700,
      });
      expect(await ctx.repos().refunds.findByStripeId(stripeRefundId)).toEqual(refund);
    });

    it('moves a refund by compare-and-set with its patch, and links the payment event to it', async () => {
      const { s, payment } = await succeededPayment(ctx.repos());
      const refund = await ctx.repos().refunds.create(
        {
          accountId: s.account.id,
          paymentId: payment.id,
          amount: 5_000,
          currency: 'usd',
          status: 'requires_approval',
          origin: 'pay',
        },
        { requestId: 'req_a' },
      );
      const approved = await ctx
        .repos()
        .refunds.transition(
          refund.id,
          { from: 'requires_approval', to: 'pending', patch: { approvedBy: 'key_second_admin' } },
          { requestId: 'req_b' },
        );
      expect(approved).toMatchObject({ status: 'pending', approvedBy: 'key_second_admin' });
      const stripeRefundId = unique('re');
      const done = await ctx
        .repos()
        .refunds.transition(
          refund.id,
          { from: 'pending', to: 'succeeded', amount: 5_000, patch: { stripeRefundId } },
          { stripeEventId: 'evt_refund_updated' },
        );
      expect(done).toMatchObject({ status: 'succeeded', stripeRefundId });
      expect(
        await ctx.repos().refunds.transition(refund.id, { from: 'pending', to: 'failed' }, { job: 'late' }),
      ).toBeNull();

      // The payment's ledger names the refund that moved it (a foreign key to refunds).
      const moved = await ctx
        .repos()
        .payments.transition(
          payment.id,
          { from: 'succeeded', to: 'refunded', amount: 5_000, patch: { amountRefunded: 5_000 } },
          { refundId: refund.id },
        );
      expect(moved?.status).toBe('refunded');
      const events = await ctx.repos().payments.listEvents(payment.id);
      expect(events.at(-1)?.cause).toEqual({ refundId: refund.id });
      expect(
        (await ctx.repos().refunds.listEvents(refund.id)).map((e) => [e.fromStatus, e.toStatus, e.amount]),
      ).toEqual([
        [null, 'requires_approval', 0],
        ['requires_approval', 'pending', 0],
        ['pending', 'succeeded', 5_000],
      ]);
    });

    it('throws IllegalTransitionError for a move the refund machine forbids', async () => {
      const { s, payment } = await succeededPayment(ctx.repos());
      const refund = await ctx.repos().refunds.create(
        {
          accountId: s.account.id,
          paymentId: payment.id,
          amount: 100,
          currency: 'usd',
          status: 'pending',
          origin: 'pay',
        },
        { requestId: 'req' },
      );
      await expect(
        ctx
          .repos()
          .refunds.transition(refund.id, { from: 'pending', to: 'requires_approval' }, { job: 'test' }),
      ).rejects.toBeInstanceOf(IllegalTransitionError);
    });

    it('finds refunds only within their account and lists them by payment, newest first', async () => {
      const { s, payment } = await succeededPayment(ctx.repos());
      const other = await seed(ctx.repos());
      const a = await ctx.repos().refunds.create(
        {
          accountId: s.account.id,
          paymentId: payment.id,
          amount: 100,
          currency: 'usd',
          status: 'pending',
          origin: 'pay',
        },
        { requestId: 'req' },
      );
      const b = await ctx.repos().refunds.create(
        {
          accountId: s.account.id,
          paymentId: payment.id,
          amount: 200,
          currency: 'usd',
          status: 'pending',
          origin: 'pay',
        },
        { requestId: 'req' },
      );
      expect(await ctx.repos().refunds.findById(s.account.id, a.id)).toEqual(a);
      expect(await ctx.repos().refunds.findById(other.account.id, a.id)).toBeNull();
      const listed = await ctx.repos().refunds.listByPayment(s.account.id, payment.id);
      expect(listed.map((r) => r.id)).toEqual([a.id, b.id].sort().reverse());
      expect(await ctx.repos().refunds.listByPayment(other.account.id, payment.id)).toEqual([]);
    });

    it('locks a refund until its transaction ends, so a concurrent move waits for it', async () => {
      const { s, payment } = await succeededPayment(ctx.repos());
      const refund = await ctx.repos().refunds.create(
        {
          accountId: s.account.id,
          paymentId: payment.id,
          amount: 300,
          currency: 'usd',
          status: 'requires_approval',
          origin: 'pay',
        },
        { requestId: 'req' },
      );
      const locked = deferred();
      const release = deferred();
      const holder = ctx.db().store.transaction(async (tx) => {
        expect(await tx.refunds.lockById(refund.id)).toEqual(refund);
        locked.resolve();
        await release.promise;
        await tx.refunds.transition(
          refund.id,
          { from: 'requires_approval', to: 'pending', patch: { approvedBy: 'key_second' } },
          { requestId: 'req_approve' },
        );
      });
      await locked.promise;
      let settled = false;
      const loser = ctx
        .repos()
        .refunds.transition(refund.id, { from: 'requires_approval', to: 'canceled' }, { job: 'loser' })
        .finally(() => {
          settled = true;
        });
      await sleep(100);
      expect(settled).toBe(false); // blocked on the holder's row lock (PGlite: on its only connection)
      release.resolve();
      await holder;
      expect(await loser).toBeNull();
      expect(await ctx.repos().refunds.lockById(newId('refund'))).toBeNull();
    });

    it('lists pending refunds pay made, not updated since the cutoff, by id with a cursor', async () => {
      const { s, payment } = await succeededPayment(ctx.repos());
      const make = (status: 'pending' | 'requires_approval' | 'succeeded', origin: 'pay' | 'stripe') =>
        ctx.repos().refunds.create(
          {
            accountId: s.account.id,
            paymentId: payment.id,
            amount: 100,
            currency: 'usd',
            status,
            origin,
            ...(origin === 'stripe' ? { stripeRefundId: unique('re') } : {}),
          },
          { requestId: 'req' },
        );
      const first = await make('pending', 'pay');
      const second = await make('pending', 'pay');
      const failed = await make('pending', 'pay');
      await ctx.repos().refunds.transition(failed.id, { from: 'pending', to: 'failed' }, { job: 'test' });
      await make('requires_approval', 'pay');
      await make('succeeded', 'pay');
      await make('pending', 'stripe');
      const mine = (rows: readonly Refund[]) =>
        rows.filter((r) => r.paymentId === payment.id).map((r) => r.id);
      const later = new Date(Date.now() + 60_000);

      const expected = [first.id, second.id].sort();
      expect(mine(await ctx.repos().refunds.listInFlight({ updatedBefore: later, limit: 10_000 }))).toEqual(
        expected,
      );
      expect(
        mine(
          await ctx
            .repos()
            .refunds.listInFlight({ updatedBefore: later, afterId: expected[0], limit: 10_000 }),
        ),
      ).toEqual(expected.slice(1));
      expect(
        mine(await ctx.repos().refunds.listInFlight({ updatedBefore: first.updatedAt, limit: 10_000 })),
      ).toEqual([]);
      expect(await ctx.repos().refunds.listInFlight({ updatedBefore: later, limit: 1 })).toHaveLength(1);
    });
  });
}
