import fc from 'fast-check';
import type { Delivery } from '../../test/memory/memory-stripe.js';
import { webhookHarness, type WebhookHarness } from '../../test/memory/webhook-harness.js';
import type { PaymentStatus } from '../domain/statuses.js';
import { canTransition } from '../domain/transitions.js';

/*
 * RELIABILITY.md D4/D5 on one payment, as a property: Stripe makes a payment's real changes (its
 * PaymentIntent's path, then partial refunds) and announces each with its events; pay receives every
 * event once or twice, in any order, with workers running at any moment in between. Whatever the
 * order, the payment ends in the state of Stripe's last real change, its ledger only moves forward,
 * every refund is counted once, and no Stripe call is made inside a transaction.
 */

type Path = 'succeed' | '3ds_pass' | '3ds_fail' | 'processing_succeed' | 'processing_fail' | 'cancel';

const CARD: Record<Path, string> = {
  succeed: 'pm_card_visa',
  '3ds_pass': 'pm_card_threeDSecure2Required',
  '3ds_fail': 'pm_card_threeDSecure2Required',
  processing_succeed: 'pm_card_twinProcessing',
  processing_fail: 'pm_card_twinProcessing',
  cancel: 'pm_card_threeDSecure2Required',
};

interface Scenario {
  readonly path: Path;
  readonly refunds: readonly number[];
  /** Milliseconds Stripe's clock moves after each change (0: the next one shares its second). */
  readonly gaps: readonly number[];
  /** For each event: delivered twice? */
  readonly twice: readonly boolean[];
  readonly shuffleSeed: number;
  /** After which deliveries a worker runs. */
  readonly drains: readonly boolean[];
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  path: fc.constantFrom<Path>(
    'succeed',
    '3ds_pass',
    '3ds_fail',
    'processing_succeed',
    'processing_fail',
    'cancel',
  ),
  refunds: fc.array(fc.integer({ min: 1, max: 800 }), { maxLength: 4 }),
  gaps: fc.array(fc.constantFrom(0, 0, 400, 1_500), { minLength: 8, maxLength: 8 }),
  twice: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
  shuffleSeed: fc.integer(),
  drains: fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }),
});

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Makes Stripe's real changes and returns their events, plus what Stripe ends with. */
async function stripeChanges(h: WebhookHarness, s: Scenario) {
  const { payment, intentId } = await h.pay(CARD[s.path]);
  const events: Delivery[] = [];
  let gap = 0;
  const tick = () => h.clock.advance(s.gaps[gap++ % s.gaps.length] ?? 0);
  switch (s.path) {
    case 'succeed':
      events.push(h.stripe.intentEvent('payment_intent.succeeded', intentId));
      break;
    case '3ds_pass':
    case '3ds_fail':
      events.push(h.stripe.intentEvent('payment_intent.requires_action', intentId));
      tick();
      h.stripe.completeThreeDSecure(intentId, s.path === '3ds_pass');
      events.push(
        h.stripe.intentEvent(
          s.path === '3ds_pass' ? 'payment_intent.succeeded' : 'payment_intent.payment_failed',
          intentId,
        ),
      );
      break;
    case 'processing_succeed':
    case 'processing_fail':
      events.push(h.stripe.intentEvent('payment_intent.processing', intentId));
      tick();
      h.stripe.settle(intentId, s.path === 'processing_succeed' ? 'succeeded' : 'failed');
      events.push(
        h.stripe.intentEvent(
          s.path === 'processing_succeed' ? 'payment_intent.succeeded' : 'payment_intent.payment_failed',
          intentId,
        ),
      );
      break;
    case 'cancel':
      events.push(h.stripe.intentEvent('payment_intent.requires_action', intentId));
      tick();
      await h.stripe.cancelIntent({ stripePaymentIntentId: intentId, idempotencyKey: 'cancel' });
      events.push(h.stripe.intentEvent('payment_intent.canceled', intentId));
      break;
  }
  let refunded = 0;
  const succeeded = h.stripe.intent(intentId).status === 'succeeded';
  for (const amount of succeeded ? s.refunds : []) {
    if (refunded + amount > payment.amount) {
      break;
    }
    tick();
    const refund = h.stripe.refund(intentId, amount);
    refunded += amount;
    events.push(
      h.stripe.refundEvent('refund.created', refund.stripeRefundId),
      h.stripe.chargeEvent(intentId),
    );
  }
  const intentStatus = h.stripe.intent(intentId).status;
  let expected: PaymentStatus = intentStatus;
  if (intentStatus === 'succeeded' && refunded > 0) {
    expected = refunded >= payment.amount ? 'refunded' : 'partially_refunded';
  }
  return {
    payment,
    events,
    expected,
    refunded,
    refundCount: events.filter((e) => e.type === 'refund.created').length,
  };
}

describe('webhook ordering (property)', () => {
  it('any shuffle and duplication of a payment’s events ends in Stripe’s last real state and never moves backward', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const h = await webhookHarness();
        const { payment, events, expected, refunded, refundCount } = await stripeChanges(h, s);
        const deliveries = shuffled(
          events.flatMap((e, i) => (s.twice[i % s.twice.length] === true ? [e, e] : [e])),
          s.shuffleSeed,
        );
        for (const [i, delivery] of deliveries.entries()) {
          await h.deliver(delivery);
          if (s.drains[i % s.drains.length] === true) {
            await h.webhooks.processDue();
          }
        }
        const report = await h.webhooks.processDue();
        expect(report.failed + report.dead).toBe(0);

        const after = h.payment(payment.id);
        expect(after.status).toBe(expected);
        expect(after.amountRefunded).toBe(refunded);
        const ledger = h.memory.tables.paymentEvents.filter((e) => e.paymentId === payment.id);
        for (const [i, row] of ledger.entries()) {
          expect(row.fromStatus).toBe(i === 0 ? null : ledger[i - 1]?.toStatus);
          if (row.fromStatus !== null) {
            expect(canTransition('payment', row.fromStatus, row.toStatus)).toBe(true);
          }
        }
        const refundMoves = ledger.filter(
          (e) => e.toStatus === 'partially_refunded' || e.toStatus === 'refunded',
        );
        expect(refundMoves.every((e) => e.amount > 0)).toBe(true);
        expect(refundMoves.reduce((sum, e) => sum + e.amount, 0)).toBe(refunded);
        expect(h.memory.tables.refunds.filter((r) => r.paymentId === payment.id)).toHaveLength(refundCount);
        expect(h.memory.tables.webhookEvents).toHaveLength(events.length);
        expect(h.memory.tables.webhookEvents.every((e) => e.status === 'processed')).toBe(true);
        expect(h.callsInTransaction).toEqual([]);
        const subscription = h.memory.tables.subscriptions.find((x) => x.id === payment.subscriptionId);
        // A first payment that failed leaves its subscription expired; one refunded in full cancels
        // it now (the default PAY_REFUND_SUBSCRIPTION_POLICY, cancel_now); otherwise it runs.
        expect(subscription?.status).toBe(
          expected === 'failed' || expected === 'canceled'
            ? 'expired'
            : expected === 'refunded'
              ? 'canceled'
              : 'active',
        );
      }),
      {
        numRuns: 150,
        // Refunds that add up to the whole amount exactly (CI's seed -130313647 found it): always run.
        examples: [
          [
            {
              path: 'succeed',
              refunds: [660, 471, 118, 751],
              gaps: [0, 0, 0, 0, 0, 0, 0, 0],
              twice: Array.from({ length: 16 }, () => false),
              shuffleSeed: 0,
              drains: Array.from({ length: 32 }, () => false),
            },
          ],
        ],
      },
    );
  });
});
