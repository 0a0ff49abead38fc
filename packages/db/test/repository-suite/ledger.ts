import fc from 'fast-check';
import {
  canTransition,
  IllegalTransitionError,
  PAYMENT_STATUSES,
  SUBSCRIPTION_STATUSES,
  type PaymentStatus,
  type SubscriptionStatus,
} from '@pay/core';
import { seed, unique } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

/** One attempted move: to `to`, claiming the object is `from` (`stale` picks a wrong `from`). */
const step = <S extends string>(statuses: readonly S[]) =>
  fc.record({
    to: fc.constantFrom(...statuses),
    stale: fc.boolean(),
    staleFrom: fc.constantFrom(...statuses),
  });

/** The ledger must explain the row: a chain from creation (null) to the current status, one link per change. */
function expectChain<S>(
  events: readonly { fromStatus: S | null; toStatus: S }[],
  current: S,
  changes: number,
) {
  expect(events).toHaveLength(changes + 1);
  expect(events[0]?.fromStatus).toBeNull();
  events.slice(1).forEach((event, i) => expect(event.fromStatus).toBe(events[i]?.toStatus));
  expect(events.at(-1)?.toStatus).toBe(current);
}

export function ledgerTests(ctx: SuiteContext): void {
  describe('ledger replay (property)', () => {
    it('keeps every payment equal to the replay of its events, whatever moves are attempted', async () => {
      const s = await seed(ctx.repos());
      await fc.assert(
        fc.asyncProperty(fc.array(step(PAYMENT_STATUSES), { maxLength: 8 }), async (steps) => {
          const repos = ctx.repos();
          let payment = await repos.payments.create(
            {
              accountId: s.account.id,
              customerId: s.customer.id,
              billingReason: 'manual',
              amount: 1_000,
              currency: 'usd',
              stripeIdempotencyKey: unique('k'),
            },
            { job: 'property' },
          );
          let changes = 0;
          for (const { to, stale, staleFrom } of steps) {
            const from: PaymentStatus = stale ? staleFrom : payment.status;
            if (!canTransition('payment', from, to)) {
              await expect(
                repos.payments.transition(payment.id, { from, to }, { job: 'property' }),
              ).rejects.toBeInstanceOf(IllegalTransitionError);
              continue;
            }
            const moved = await repos.payments.transition(payment.id, { from, to }, { job: 'property' });
            if (from === payment.status) {
              expect(moved?.status).toBe(to);
              payment = moved ?? payment;
              changes++;
            } else {
              expect(moved).toBeNull(); // a stale `from` never applies
            }
          }
          expectChain(await repos.payments.listEvents(payment.id), payment.status, changes);
        }),
        { numRuns: 15 },
      );
    });

    it('keeps every subscription equal to the replay of its events, whatever moves are attempted', async () => {
      const s = await seed(ctx.repos());
      await fc.assert(
        fc.asyncProperty(fc.array(step(SUBSCRIPTION_STATUSES), { maxLength: 8 }), async (steps) => {
          const repos = ctx.repos();
          const start = new Date();
          let subscription = await repos.subscriptions.create(
            {
              accountId: s.account.id,
              customerId: s.customer.id,
              planId: s.plan.id,
              status: 'incomplete',
              currentPeriodStart: start,
              currentPeriodEnd: new Date(start.getTime() + 1_000),
              nextBillingAt: null,
            },
            { job: 'property' },
          );
          let changes = 0;
          for (const { to, stale, staleFrom } of steps) {
            const from: SubscriptionStatus = stale ? staleFrom : subscription.status;
            if (from !== to && !canTransition('subscription', from, to)) {
              await expect(
                repos.subscriptions.transition(subscription.id, { from, to }, { job: 'property' }),
              ).rejects.toBeInstanceOf(IllegalTransitionError);
              continue;
            }
            const moved = await repos.subscriptions.transition(
              subscription.id,
              { from, to },
              { job: 'property' },
            );
            if (from === subscription.status) {
              expect(moved?.status).toBe(to);
              subscription = moved ?? subscription;
              changes++;
            } else {
              expect(moved).toBeNull();
            }
          }
          expectChain(await repos.subscriptions.listEvents(subscription.id), subscription.status, changes);
        }),
        { numRuns: 15 },
      );
    });
  });
}
