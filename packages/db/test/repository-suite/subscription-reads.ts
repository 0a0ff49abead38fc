import type { Repositories, SubscriptionId } from '@pay/core';
import { seed, type Seed } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

const DAY = 86_400_000;

async function subscribe(repos: Repositories, s: Seed, customerId = s.customer.id) {
  const start = new Date();
  return repos.subscriptions.create(
    {
      accountId: s.account.id,
      customerId,
      planId: s.plan.id,
      paymentMethodId: customerId === s.customer.id ? s.card.id : null,
      status: 'active',
      currentPeriodStart: start,
      currentPeriodEnd: new Date(start.getTime() + 30 * DAY),
      nextBillingAt: new Date(start.getTime() + 30 * DAY),
    },
    { requestId: 'req_sub' },
  );
}

async function pay(repos: Repositories, s: Seed, subscriptionId: SubscriptionId | null, n: number) {
  return repos.payments.create(
    {
      accountId: s.account.id,
      customerId: s.customer.id,
      planId: s.plan.id,
      subscriptionId,
      billingReason: subscriptionId === null ? 'manual' : 'subscription_create',
      amount: 2_000,
      currency: 'usd',
      stripeIdempotencyKey: `pay:reads:${subscriptionId ?? 'none'}:${n}:${Math.random()}`,
    },
    { requestId: `req_pay_${n}` },
  );
}

/** The subscription reads of issue 6: one user's subscriptions, a subscription's payments, the gauge. */
export function subscriptionReadTests(ctx: SuiteContext): void {
  describe('subscription reads', () => {
    it('lists one customer’s subscriptions newest first, page by page, within the account', async () => {
      const repos = ctx.repos();
      const s = await seed(repos);
      const other = await repos.customers.create({ accountId: s.account.id, userId: 'someone-else' });
      const older = await subscribe(repos, s);
      const newer = await subscribe(repos, s);
      await subscribe(repos, s, other.id);
      const foreign = await seed(repos);

      const first = await repos.subscriptions.listByCustomer(s.account.id, s.customer.id, { limit: 1 });
      expect(first.data.map((x) => x.id)).toEqual([[older.id, newer.id].sort().reverse()[0]]);
      expect(first.hasMore).toBe(true);
      const all = await repos.subscriptions.listByCustomer(s.account.id, s.customer.id, { limit: 10 });
      expect(all.data.map((x) => x.id)).toEqual([older.id, newer.id].sort().reverse());
      expect(all.hasMore).toBe(false);
      const rest = await repos.subscriptions.listByCustomer(s.account.id, s.customer.id, {
        limit: 10,
        startingAfter: all.data[0]?.id,
      });
      expect(rest).toEqual({ data: [all.data[1]], hasMore: false });
      expect(
        await repos.subscriptions.listByCustomer(foreign.account.id, s.customer.id, { limit: 10 }),
      ).toEqual({
        data: [],
        hasMore: false,
      });
    });

    it('lists a subscription’s payments newest first, at most `limit`, never another’s', async () => {
      const repos = ctx.repos();
      const s = await seed(repos);
      const subscription = await subscribe(repos, s);
      const otherSubscription = await subscribe(repos, s);
      const ours = [];
      for (let n = 0; n < 3; n++) {
        ours.push(await pay(repos, s, subscription.id, n));
      }
      await pay(repos, s, otherSubscription.id, 9);
      await pay(repos, s, null, 10);
      const newestFirst = ours
        .map((p) => p.id)
        .sort()
        .reverse();

      const listed = await repos.payments.listBySubscription(s.account.id, subscription.id, 5);
      expect(listed.map((p) => p.id)).toEqual(newestFirst);
      const two = await repos.payments.listBySubscription(s.account.id, subscription.id, 2);
      expect(two.map((p) => p.id)).toEqual(newestFirst.slice(0, 2));
      const foreign = await seed(repos);
      expect(await repos.payments.listBySubscription(foreign.account.id, subscription.id, 5)).toEqual([]);
    });

    it('counts subscriptions of every account by status, every status present', async () => {
      const repos = ctx.repos();
      const before = await repos.subscriptions.countByStatus();
      expect(Object.keys(before).sort()).toEqual(['active', 'canceled', 'expired', 'incomplete', 'past_due']);
      const s = await seed(repos);
      const a = await subscribe(repos, s);
      const b = await subscribe(repos, s);
      await subscribe(repos, await seed(repos));
      await repos.subscriptions.transition(a.id, { from: 'active', to: 'past_due' }, { job: 'test' });
      await repos.subscriptions.transition(b.id, { from: 'active', to: 'canceled' }, { job: 'test' });

      const after = await repos.subscriptions.countByStatus();
      expect({
        active: after.active - before.active,
        past_due: after.past_due - before.past_due,
        canceled: after.canceled - before.canceled,
        incomplete: after.incomplete - before.incomplete,
        expired: after.expired - before.expired,
      }).toEqual({ active: 1, past_due: 1, canceled: 1, incomplete: 0, expired: 0 });
    });
  });
}
