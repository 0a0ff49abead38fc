import { IllegalTransitionError, newId, type Repositories } from '@pay/core';
import { deferred, seed, sleep, unique, type Seed } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

function newPayment(s: Seed, overrides: { amount?: number } = {}) {
  return {
    accountId: s.account.id,
    customerId: s.customer.id,
    paymentMethodId: s.card.id,
    billingReason: 'manual' as const,
    amount: overrides.amount ?? 1_500,
    currency: 'usd' as const,
    stripeIdempotencyKey: unique('idem'),
    description: 'Order 42',
  };
}

async function pendingPayment(repos: Repositories) {
  const s = await seed(repos);
  const payment = await repos.payments.create(newPayment(s), { requestId: 'req_create' });
  return { s, payment };
}

export function paymentTests(ctx: SuiteContext): void {
  describe('payments', () => {
    it('creates a pending payment and its creation event, in one go', async () => {
      const s = await seed(ctx.repos());
      const payment = await ctx.repos().payments.create(newPayment(s), { requestId: 'req_1' });
      expect(payment).toMatchObject({
        accountId: s.account.id,
        customerId: s.customer.id,
        paymentMethodId: s.card.id,
        planId: null,
        subscriptionId: null,
        status: 'pending',
        amount: 1_500,
        amountRefunded: 0,
        currency: 'usd',
        stripePaymentIntentId: null,
        failureCode: null,
        description: 'Order 42',
      });
      expect(payment.id).toMatch(/^pay_/);
      const events = await ctx.repos().payments.listEvents(payment.id);
      expect(events).toEqual([
        expect.objectContaining({
          fromStatus: null,
          toStatus: 'pending',
          amount: 0,
          cause: { requestId: 'req_1' },
        }),
      ]);
    });

    it('uses the id the caller chose, when given', async () => {
      const s = await seed(ctx.repos());
      const id = newId('payment');
      const payment = await ctx.repos().payments.create({ ...newPayment(s), id }, { job: 'test' });
      expect(payment.id).toBe(id);
    });

    it('writes neither the payment nor its event when the event is rejected (no cause)', async () => {
      const s = await seed(ctx.repos());
      const input = { ...newPayment(s), id: newId('payment') };
      await expect(ctx.repos().payments.create(input, {})).rejects.toThrow();
      expect(await ctx.repos().payments.findById(s.account.id, input.id)).toBeNull();
    });

    it('finds a payment only within its account', async () => {
      const { s, payment } = await pendingPayment(ctx.repos());
      const other = await seed(ctx.repos());
      expect(await ctx.repos().payments.findById(s.account.id, payment.id)).toEqual(payment);
      expect(await ctx.repos().payments.findById(other.account.id, payment.id)).toBeNull();
    });

    it('records the PaymentIntent id once and finds the payment by it', async () => {
      const { payment } = await pendingPayment(ctx.repos());
      const intent = unique('pi');
      expect((await ctx.repos().payments.setStripeIntentId(payment.id, intent))?.stripePaymentIntentId).toBe(
        intent,
      );
      expect((await ctx.repos().payments.setStripeIntentId(payment.id, intent))?.stripePaymentIntentId).toBe(
        intent,
      );
      expect(await ctx.repos().payments.setStripeIntentId(payment.id, unique('pi'))).toBeNull();
      expect((await ctx.repos().payments.findByStripeIntentId(intent))?.id).toBe(payment.id);
      expect(await ctx.repos().payments.findByStripeIntentId(unique('pi'))).toBeNull();
    });

    it('moves a payment with a patch and writes the event row with from, to, amount and cause', async () => {
      const { payment } = await pendingPayment(ctx.repos());
      const intent = unique('pi');
      const succeeded = await ctx
        .repos()
        .payments.transition(
          payment.id,
          { from: 'pending', to: 'succeeded', amount: 1_500, patch: { stripePaymentIntentId: intent } },
          { stripeEventId: 'evt_1', job: 'webhook' },
        );
      expect(succeeded).toMatchObject({ status: 'succeeded', stripePaymentIntentId: intent });
      expect(succeeded?.updatedAt.getTime()).toBeGreaterThanOrEqual(payment.updatedAt.getTime());
      const refunded = await ctx
        .repos()
        .payments.transition(
          payment.id,
          { from: 'succeeded', to: 'partially_refunded', amount: 500, patch: { amountRefunded: 500 } },
          { requestId: 'req_2' },
        );
      expect(refunded).toMatchObject({ status: 'partially_refunded', amountRefunded: 500 });
      const events = await ctx.repos().payments.listEvents(payment.id);
      expect(events.map((e) => [e.fromStatus, e.toStatus, e.amount])).toEqual([
        [null, 'pending', 0],
        ['pending', 'succeeded', 1_500],
        ['succeeded', 'partially_refunded', 500],
      ]);
      expect(events[1]?.cause).toEqual({ stripeEventId: 'evt_1', job: 'webhook' });
      expect(events[2]?.cause).toEqual({ requestId: 'req_2' });
      expect(events.every((e) => e.paymentId === payment.id && e.accountId === payment.accountId)).toBe(true);
    });

    it('sets failure details with a failed transition', async () => {
      const { payment } = await pendingPayment(ctx.repos());
      const failed = await ctx.repos().payments.transition(
        payment.id,
        {
          from: 'pending',
          to: 'failed',
          patch: {
            failureCode: 'card_declined',
            declineCode: 'insufficient_funds',
            failureMessage: 'Declined',
          },
        },
        { requestId: 'req_3' },
      );
      expect(failed).toMatchObject({
        status: 'failed',
        failureCode: 'card_declined',
        declineCode: 'insufficient_funds',
        failureMessage: 'Declined',
      });
    });

    it('throws IllegalTransitionError for a move the state machine forbids, and changes nothing', async () => {
      const { s, payment } = await pendingPayment(ctx.repos());
      await expect(
        ctx.repos().payments.transition(payment.id, { from: 'pending', to: 'refunded' }, { job: 'test' }),
      ).rejects.toBeInstanceOf(IllegalTransitionError);
      expect((await ctx.repos().payments.findById(s.account.id, payment.id))?.status).toBe('pending');
      expect(await ctx.repos().payments.listEvents(payment.id)).toHaveLength(1);
    });

    it('returns null and writes no event when the payment is no longer `from`', async () => {
      const { payment } = await pendingPayment(ctx.repos());
      await ctx.repos().payments.transition(payment.id, { from: 'pending', to: 'canceled' }, { job: 'test' });
      const stale = await ctx
        .repos()
        .payments.transition(
          payment.id,
          { from: 'pending', to: 'succeeded', amount: 1_500 },
          { stripeEventId: 'evt_late' },
        );
      expect(stale).toBeNull();
      expect((await ctx.repos().payments.listEvents(payment.id)).map((e) => e.toStatus)).toEqual([
        'pending',
        'canceled',
      ]);
    });

    it('lets exactly one of several concurrent transitions from the same state win', async () => {
      const { s, payment } = await pendingPayment(ctx.repos());
      const targets = [
        'succeeded',
        'failed',
        'canceled',
        'processing',
        'requires_action',
        'succeeded',
      ] as const;
      const results = await Promise.all(
        targets.map((to, i) =>
          ctx.repos().payments.transition(payment.id, { from: 'pending', to }, { job: `racer-${i}` }),
        ),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      const stored = await ctx.repos().payments.findById(s.account.id, payment.id);
      expect(stored?.status).toBe(winners[0]?.status);
      expect(await ctx.repos().payments.listEvents(payment.id)).toHaveLength(2);
    });

    it('makes a transition wait for a transaction that moved the same payment, then lose', async () => {
      const { payment } = await pendingPayment(ctx.repos());
      const moved = deferred();
      const release = deferred();
      const holder = ctx.db().store.transaction(async (tx) => {
        await tx.payments.transition(payment.id, { from: 'pending', to: 'processing' }, { job: 'holder' });
        moved.resolve();
        await release.promise;
      });
      await moved.promise;
      let settled = false;
      const loser = ctx
        .repos()
        .payments.transition(payment.id, { from: 'pending', to: 'canceled' }, { job: 'loser' })
        .finally(() => {
          settled = true;
        });
      await sleep(100);
      expect(settled).toBe(false); // blocked on the holder's row lock (PGlite: on its only connection)
      release.resolve();
      await holder;
      expect(await loser).toBeNull();
    });

    it('locks a payment for the rest of a transaction', async () => {
      const { payment } = await pendingPayment(ctx.repos());
      const locked = await ctx.db().store.transaction((tx) => tx.payments.lockById(payment.id));
      expect(locked).toEqual(payment);
      expect(await ctx.repos().payments.lockById(newId('payment'))).toBeNull();
    });

    it('lists payments newest first with cursor pagination, per account', async () => {
      const s = await seed(ctx.repos());
      const created = [];
      for (let i = 0; i < 5; i++) {
        created.push(await ctx.repos().payments.create(newPayment(s, { amount: 100 + i }), { job: 'seed' }));
      }
      const ids = created
        .map((p) => p.id)
        .sort()
        .reverse();
      const page1 = await ctx.repos().payments.list(s.account.id, { limit: 3 });
      expect(page1.data.map((p) => p.id)).toEqual(ids.slice(0, 3));
      expect(page1.hasMore).toBe(true);
      const page2 = await ctx.repos().payments.list(s.account.id, { limit: 3, startingAfter: ids[2] });
      expect(page2.data.map((p) => p.id)).toEqual(ids.slice(3));
      expect(page2.hasMore).toBe(false);
      const other = await seed(ctx.repos());
      expect(await ctx.repos().payments.list(other.account.id, { limit: 10 })).toEqual({
        data: [],
        hasMore: false,
      });
    });
  });
}
