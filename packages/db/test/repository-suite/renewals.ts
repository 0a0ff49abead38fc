import type { Repositories } from '@pay/core';
import { databaseErrorOf, seed, unique, type Seed } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

const DAY = 86_400_000;

async function subscriptionOf(repos: Repositories, s: Seed, status: 'incomplete' | 'active') {
  const start = new Date();
  return repos.subscriptions.create(
    {
      accountId: s.account.id,
      customerId: s.customer.id,
      planId: s.plan.id,
      paymentMethodId: s.card.id,
      status,
      currentPeriodStart: start,
      currentPeriodEnd: new Date(start.getTime() + 30 * DAY),
      nextBillingAt: status === 'active' ? new Date(start.getTime() + 30 * DAY) : null,
    },
    { requestId: 'req_sub' },
  );
}

function renewalOf(
  s: Seed,
  subscriptionId: Awaited<ReturnType<typeof subscriptionOf>>['id'],
  periodStart: Date,
  attempt: number,
) {
  return {
    accountId: s.account.id,
    customerId: s.customer.id,
    paymentMethodId: s.card.id,
    planId: s.plan.id,
    subscriptionId,
    billingReason: 'subscription_cycle' as const,
    amount: 2_000,
    currency: 'usd' as const,
    stripeIdempotencyKey: unique('renewal'),
    renewal: { periodStart, periodEnd: new Date(periodStart.getTime() + 30 * DAY), attempt },
  };
}

export function renewalTests(ctx: SuiteContext): void {
  describe('renewals', () => {
    it('finds the renewal of one try of one period, and nothing for another try, period or subscription', async () => {
      const s = await seed(ctx.repos());
      const subscription = await subscriptionOf(ctx.repos(), s, 'active');
      const other = await subscriptionOf(ctx.repos(), s, 'active');
      const periodStart = subscription.currentPeriodEnd;
      const first = await ctx
        .repos()
        .payments.create(renewalOf(s, subscription.id, periodStart, 0), { job: 'renewals' });
      const retry = await ctx
        .repos()
        .payments.create(renewalOf(s, subscription.id, periodStart, 1), { job: 'renewals' });
      expect(first).toMatchObject({
        billingReason: 'subscription_cycle',
        billingPeriodStart: periodStart,
        billingPeriodEnd: new Date(periodStart.getTime() + 30 * DAY),
        renewalAttempt: 0,
      });

      const payments = ctx.repos().payments;
      expect(await payments.findRenewal(subscription.id, periodStart, 0)).toEqual(first);
      expect(await payments.findRenewal(subscription.id, new Date(periodStart.getTime()), 1)).toEqual(retry);
      expect(await payments.findRenewal(subscription.id, periodStart, 2)).toBeNull();
      expect(await payments.findRenewal(subscription.id, new Date(periodStart.getTime() + 1), 0)).toBeNull();
      expect(await payments.findRenewal(other.id, periodStart, 0)).toBeNull();
    });

    it('refuses a second payment for the same try of the same period (payments_renewal_unique)', async () => {
      const s = await seed(ctx.repos());
      const subscription = await subscriptionOf(ctx.repos(), s, 'active');
      const periodStart = subscription.currentPeriodEnd;
      await ctx.repos().payments.create(renewalOf(s, subscription.id, periodStart, 0), { job: 'renewals' });
      const second = ctx
        .repos()
        .payments.create(renewalOf(s, subscription.id, periodStart, 0), { job: 'renewals' });
      await expect(second).rejects.toThrow();
      expect(databaseErrorOf(await second.catch((e: unknown) => e))).toEqual({
        code: '23505',
        constraint: 'payments_renewal_unique',
      });
      expect(await ctx.repos().payments.listBySubscription(s.account.id, subscription.id, 10)).toHaveLength(
        1,
      );
    });

    it('lists incomplete subscriptions created before a cutoff, of every account, oldest first', async () => {
      const a = await seed(ctx.repos());
      const b = await seed(ctx.repos());
      const older = await subscriptionOf(ctx.repos(), a, 'incomplete');
      const newer = await subscriptionOf(ctx.repos(), b, 'incomplete');
      const active = await subscriptionOf(ctx.repos(), a, 'active');
      const expired = await subscriptionOf(ctx.repos(), b, 'incomplete');
      await ctx
        .repos()
        .subscriptions.transition(expired.id, { from: 'incomplete', to: 'expired' }, { job: 'test' });
      const cutoff = new Date(Date.now() + 60_000);

      const listed = await ctx.repos().subscriptions.listIncompleteCreatedBefore(cutoff, 1_000);
      const ids = listed.map((x) => x.id);
      const ours = [older.id, newer.id];
      expect(ids.filter((id) => ours.includes(id))).toEqual(ours);
      expect(ids).not.toContain(active.id);
      expect(ids).not.toContain(expired.id);
      expect(listed.every((x) => x.status === 'incomplete')).toBe(true);
      const createdAts = listed.map((x) => x.createdAt.getTime());
      expect(createdAts).toEqual([...createdAts].sort((x, y) => x - y));
      expect(await ctx.repos().subscriptions.listIncompleteCreatedBefore(cutoff, 1)).toHaveLength(1);
      const beforeAll = new Date(older.createdAt.getTime() - DAY);
      const none = await ctx.repos().subscriptions.listIncompleteCreatedBefore(beforeAll, 1_000);
      expect(none.map((x) => x.id)).not.toEqual(expect.arrayContaining([older.id]));
    });
  });
}
