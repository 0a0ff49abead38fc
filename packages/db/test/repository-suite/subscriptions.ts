import { IllegalTransitionError, newId, type Repositories } from '@pay/core';
import { seed } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

const DAY = 86_400_000;

async function activeSubscription(
  repos: Repositories,
  nextBillingAt: Date | null = new Date(Date.now() + 30 * DAY),
) {
  const s = await seed(repos);
  const start = new Date();
  const subscription = await repos.subscriptions.create(
    {
      accountId: s.account.id,
      customerId: s.customer.id,
      planId: s.plan.id,
      paymentMethodId: s.card.id,
      status: 'active',
      currentPeriodStart: start,
      currentPeriodEnd: new Date(start.getTime() + 30 * DAY),
      nextBillingAt,
    },
    { requestId: 'req_sub' },
  );
  return { s, subscription };
}

export function subscriptionTests(ctx: SuiteContext): void {
  describe('subscriptions', () => {
    it('creates a subscription with its creation event', async () => {
      const { s, subscription } = await activeSubscription(ctx.repos());
      expect(subscription).toMatchObject({
        accountId: s.account.id,
        planId: s.plan.id,
        status: 'active',
        cancelAtPeriodEnd: false,
        canceledAt: null,
        endedAt: null,
        dunningAttempts: 0,
      });
      expect(subscription.id).toMatch(/^subs_/);
      expect(await ctx.repos().subscriptions.listEvents(subscription.id)).toEqual([
        expect.objectContaining({
          fromStatus: null,
          toStatus: 'active',
          amount: 0,
          cause: { requestId: 'req_sub' },
        }),
      ]);
    });

    it('finds a subscription only within its account', async () => {
      const { s, subscription } = await activeSubscription(ctx.repos());
      const other = await seed(ctx.repos());
      expect(await ctx.repos().subscriptions.findById(s.account.id, subscription.id)).toEqual(subscription);
      expect(await ctx.repos().subscriptions.findById(other.account.id, subscription.id)).toBeNull();
    });

    it('reads a subscription together with its plan, only within its account', async () => {
      const { s, subscription } = await activeSubscription(ctx.repos());
      const other = await seed(ctx.repos());
      expect(await ctx.repos().subscriptions.findWithPlan(s.account.id, subscription.id)).toEqual({
        subscription,
        plan: s.plan,
      });
      expect(await ctx.repos().subscriptions.findWithPlan(other.account.id, subscription.id)).toBeNull();
      expect(
        await ctx.repos().subscriptions.findWithPlan(s.account.id, newId('subscription', new Date())),
      ).toBeNull();
    });

    it('moves through dunning with patches, and updates fields in place when from === to', async () => {
      const { subscription } = await activeSubscription(ctx.repos());
      const pastDue = await ctx
        .repos()
        .subscriptions.transition(
          subscription.id,
          { from: 'active', to: 'past_due', patch: { dunningAttempts: 1 } },
          { job: 'renewal' },
        );
      expect(pastDue).toMatchObject({ status: 'past_due', dunningAttempts: 1 });
      const periodEnd = new Date(subscription.currentPeriodEnd.getTime() + 30 * DAY);
      const renewed = await ctx.repos().subscriptions.transition(
        subscription.id,
        {
          from: 'past_due',
          to: 'active',
          amount: 2_000,
          patch: {
            dunningAttempts: 0,
            currentPeriodStart: subscription.currentPeriodEnd,
            currentPeriodEnd: periodEnd,
            nextBillingAt: periodEnd,
          },
        },
        { job: 'renewal' },
      );
      expect(renewed).toMatchObject({
        status: 'active',
        dunningAttempts: 0,
        currentPeriodEnd: periodEnd,
        nextBillingAt: periodEnd,
      });
      const flagged = await ctx
        .repos()
        .subscriptions.transition(
          subscription.id,
          { from: 'active', to: 'active', patch: { cancelAtPeriodEnd: true } },
          { requestId: 'req_cancel_later' },
        );
      expect(flagged).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
      const events = await ctx.repos().subscriptions.listEvents(subscription.id);
      expect(events.map((e) => [e.fromStatus, e.toStatus, e.amount])).toEqual([
        [null, 'active', 0],
        ['active', 'past_due', 0],
        ['past_due', 'active', 2_000],
        ['active', 'active', 0],
      ]);
    });

    it('throws IllegalTransitionError out of a final state', async () => {
      const { subscription } = await activeSubscription(ctx.repos());
      const now = new Date();
      await ctx
        .repos()
        .subscriptions.transition(
          subscription.id,
          { from: 'active', to: 'canceled', patch: { canceledAt: now, endedAt: now, nextBillingAt: null } },
          { requestId: 'req_cancel' },
        );
      await expect(
        ctx
          .repos()
          .subscriptions.transition(subscription.id, { from: 'canceled', to: 'active' }, { job: 'renewal' }),
      ).rejects.toBeInstanceOf(IllegalTransitionError);
    });

    it('returns null when the subscription is no longer `from`', async () => {
      const { subscription } = await activeSubscription(ctx.repos());
      const renewal = await ctx
        .repos()
        .subscriptions.transition(subscription.id, { from: 'past_due', to: 'active' }, { job: 'renewal' });
      expect(renewal).toBeNull();
      expect(await ctx.repos().subscriptions.listEvents(subscription.id)).toHaveLength(1);
    });

    it('lists due subscriptions: active or past due, next billing reached, oldest first', async () => {
      const now = new Date();
      const dueEarly = await activeSubscription(ctx.repos(), new Date(now.getTime() - 2 * DAY));
      const dueLate = await activeSubscription(ctx.repos(), new Date(now.getTime() - DAY));
      const future = await activeSubscription(ctx.repos(), new Date(now.getTime() + DAY));
      const canceled = await activeSubscription(ctx.repos(), new Date(now.getTime() - 3 * DAY));
      await ctx
        .repos()
        .subscriptions.transition(
          canceled.subscription.id,
          { from: 'active', to: 'canceled' },
          { job: 'test' },
        );
      const pastDue = await activeSubscription(ctx.repos(), new Date(now.getTime() - 1_000));
      await ctx
        .repos()
        .subscriptions.transition(
          pastDue.subscription.id,
          { from: 'active', to: 'past_due' },
          { job: 'test' },
        );

      const due = (await ctx.repos().subscriptions.listDue(now, 1_000)).map((s) => s.id);
      const ours = [dueEarly, dueLate, pastDue].map((x) => x.subscription.id);
      expect(due.filter((id) => ours.includes(id))).toEqual(ours);
      expect(due).not.toContain(future.subscription.id);
      expect(due).not.toContain(canceled.subscription.id);
      expect(await ctx.repos().subscriptions.listDue(now, 1)).toHaveLength(1);
    });

    it('locks a subscription inside a transaction and lists per account with pagination', async () => {
      const { s, subscription } = await activeSubscription(ctx.repos());
      expect(await ctx.db().store.transaction((tx) => tx.subscriptions.lockById(subscription.id))).toEqual(
        subscription,
      );
      expect(await ctx.repos().subscriptions.lockById(newId('subscription'))).toBeNull();
      const second = await ctx.repos().subscriptions.create(
        {
          accountId: s.account.id,
          customerId: s.customer.id,
          planId: s.plan.id,
          status: 'incomplete',
          currentPeriodStart: new Date(),
          currentPeriodEnd: new Date(Date.now() + DAY),
          nextBillingAt: null,
        },
        { requestId: 'req' },
      );
      const ids = [subscription.id, second.id].sort().reverse();
      const page = await ctx.repos().subscriptions.list(s.account.id, { limit: 1 });
      expect(page).toEqual({ data: [expect.objectContaining({ id: ids[0] })], hasMore: true });
      const rest = await ctx.repos().subscriptions.list(s.account.id, { limit: 1, startingAfter: ids[0] });
      expect(rest).toEqual({ data: [expect.objectContaining({ id: ids[1] })], hasMore: false });
    });
  });
}
