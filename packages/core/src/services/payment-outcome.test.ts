import fc from 'fast-check';
import { createMemoryStore } from '../../test/memory/memory-store.js';
import type { Cause } from '../domain/entities.js';
import type { PaymentStatus } from '../domain/statuses.js';
import { canTransition } from '../domain/transitions.js';
import { applyObservation, type Observation } from './payment-outcome.js';

/*
 * Model-based property (RELIABILITY.md I1, reduced to what one payment can hear): whatever Stripe
 * reports, in whatever order and however often (the request, its retry, the 3-D Secure return, a
 * webhook, recovery), the payment only moves along the state machine, never leaves a final status,
 * writes one event row per move, and its subscription ends active exactly when the payment succeeded.
 */

const observation: fc.Arbitrary<Observation> = fc.oneof(
  fc.constant<Observation>({ kind: 'pending' }),
  fc.constant<Observation>({ kind: 'succeeded' }),
  fc.constant<Observation>({ kind: 'processing' }),
  fc.constant<Observation>({ kind: 'canceled' }),
  fc.constant<Observation>({ kind: 'requires_action', redirectUrl: 'https://hooks.stripe.test/3ds' }),
  fc.constant<Observation>({
    kind: 'declined',
    decline: { code: 'card_declined', declineCode: 'generic_decline', message: 'Declined.' },
  }),
  fc.constant<Observation>({ kind: 'rejected', gatewayCode: 'resource_missing', message: 'No such card.' }),
);

async function world() {
  const now = new Date('2026-03-31T08:00:00.000Z');
  const memory = createMemoryStore({ clock: { now: () => now } });
  const { repos } = memory.store;
  const account = await repos.accounts.create({ name: 'Acme' });
  const plan = await repos.plans.create({
    accountId: account.id,
    name: 'Pro',
    amount: 900,
    currency: 'usd',
    interval: 'month',
  });
  const customer = await repos.customers.findOrCreate({ accountId: account.id, userId: 'u' });
  const cause: Cause = { job: 'test' };
  const subscription = await repos.subscriptions.create(
    {
      accountId: account.id,
      customerId: customer.id,
      planId: plan.id,
      status: 'incomplete',
      currentPeriodStart: now,
      currentPeriodEnd: new Date('2026-04-30T08:00:00.000Z'),
      nextBillingAt: null,
    },
    cause,
  );
  const payment = await repos.payments.create(
    {
      accountId: account.id,
      customerId: customer.id,
      planId: plan.id,
      subscriptionId: subscription.id,
      billingReason: 'subscription_create',
      amount: 900,
      currency: 'usd',
      stripeIdempotencyKey: 'pay:test',
    },
    cause,
  );
  return { memory, now, payment, cause };
}

describe('applyObservation', () => {
  it('moves a payment only forward along the table, whatever Stripe reports in whatever order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 12 }), async (observations) => {
        const { memory, now, payment, cause } = await world();
        const seen: PaymentStatus[] = [payment.status];
        for (const o of observations) {
          // Always from the first, stale copy of the row, as a concurrent writer would hold it.
          const current = await memory.store.transaction((tx) =>
            applyObservation(tx, payment, o, now, cause),
          );
          seen.push(current.status);
        }
        const moves = seen.filter((s, i) => i === 0 || s !== seen[i - 1]);
        for (let i = 1; i < moves.length; i++) {
          expect(canTransition('payment', moves[i - 1] as PaymentStatus, moves[i] as PaymentStatus)).toBe(
            true,
          );
        }
        const final = seen.at(-1);
        expect(memory.tables.paymentEvents.map((e) => e.toStatus)).toEqual(moves);
        const subscription = memory.tables.subscriptions[0];
        if (final === 'succeeded') {
          expect(subscription?.status).toBe('active');
          expect(memory.tables.paymentEvents.at(-1)?.amount).toBe(900);
        } else if (final === 'failed' || final === 'canceled') {
          expect(subscription?.status).toBe('expired');
        } else {
          expect(subscription?.status).toBe('incomplete');
        }
        if (seen.includes('succeeded')) {
          expect(final).toBe('succeeded');
        }
      }),
      { numRuns: 200 },
    );
  });
});
