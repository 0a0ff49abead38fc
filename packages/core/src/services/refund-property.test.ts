import fc from 'fast-check';
import { refundHarness, type RefundHarness } from '../../test/memory/refund-harness.js';
import type { Payment } from '../domain/entities.js';
import { DependencyUnavailableError, RefundExceedsCapturedError } from '../errors.js';

/*
 * A property over any sequence of refund commands on one payment of 2,000 — refunds of any amount (or
 * "all that remains"), some meeting a Stripe that does not answer (before or after acting) and retried
 * with the same key, and refunds that Stripe fails later (its webhook delivered) — checked after every
 * command: the live refunds never pass what was captured, the payment's amount_refunded is exactly the
 * sum of its succeeded refunds, and Stripe's ledger agrees with pay's.
 */

type Command =
  | {
      readonly kind: 'create';
      readonly amount: number | undefined;
      readonly fault: 'none' | 'unavailable_before' | 'unavailable_after';
    }
  | { readonly kind: 'fail_at_stripe'; readonly pick: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    amount: fc.option(fc.integer({ min: 1, max: 2_500 }), { nil: undefined }),
    fault: fc.constantFrom('none' as const, 'unavailable_before' as const, 'unavailable_after' as const),
  }),
  fc.record({ kind: fc.constant('fail_at_stripe' as const), pick: fc.nat() }),
);

function checkInvariants(h: RefundHarness, payment: Payment, intentId: string): void {
  const refunds = h.memory.tables.refunds.filter((r) => r.paymentId === payment.id);
  const sum = (statuses: readonly string[]) =>
    refunds.filter((r) => statuses.includes(r.status)).reduce((total, r) => total + r.amount, 0);
  const current = h.payment(payment.id);
  expect(sum(['requires_approval', 'pending', 'succeeded'])).toBeLessThanOrEqual(payment.amount);
  expect(current.amountRefunded).toBe(sum(['succeeded']));
  expect(current.status).toBe(
    current.amountRefunded === 0
      ? 'succeeded'
      : current.amountRefunded === payment.amount
        ? 'refunded'
        : 'partially_refunded',
  );
  // Every command settled (retries used the same key): nothing is left pending.
  expect(refunds.filter((r) => r.status === 'pending')).toEqual([]);
  const atStripe = h.stripe.allRefunds().filter((r) => r.stripePaymentIntentId === intentId);
  expect(h.stripe.chargeOf(intentId).amountRefunded).toBe(current.amountRefunded);
  expect(atStripe.filter((r) => r.status === 'succeeded').length).toBe(
    refunds.filter((r) => r.status === 'succeeded').length,
  );
  // One Stripe refund per pay refund at most, named by pay's id.
  expect(new Set(atStripe.map((r) => r.refundId)).size).toBe(atStripe.length);
}

describe('refunds, as a property', () => {
  it('keep Σ live refunds ≤ captured and amount_refunded == Σ succeeded over any sequence of refunds and failures', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 12 }), async (commands) => {
        const h = await refundHarness();
        const { payment, intentId } = await h.pay();
        const service = h.refunds({ subscriptionPolicy: 'keep' });
        let n = 0;
        let audited = 0;
        for (const c of commands) {
          n += 1;
          if (c.kind === 'fail_at_stripe') {
            const live = h.stripe.allRefunds().filter((r) => r.status === 'succeeded');
            const victim = live[c.pick % Math.max(live.length, 1)];
            if (victim !== undefined) {
              h.stripe.setRefundStatus(victim.stripeRefundId, 'failed');
              await h.deliver(h.stripe.refundEvent('refund.failed', victim.stripeRefundId));
              await h.webhooks.processDue();
            }
          } else {
            const args = h.request(`property-key-${n}-abcdefghijklmn`, {
              paymentId: payment.id,
              amount: c.amount,
            });
            const fits = await service.preview(args[0]).then(
              () => true,
              (error: unknown) => {
                expect(error).toBeInstanceOf(RefundExceedsCapturedError);
                return false;
              },
            );
            if (!fits) {
              await expect(service.create(...args)).rejects.toBeInstanceOf(RefundExceedsCapturedError);
            } else {
              if (c.fault !== 'none') {
                h.stripe.fail('createRefund', c.fault);
                await expect(service.create(...args)).rejects.toBeInstanceOf(DependencyUnavailableError);
              }
              const attempt = await service.create(...args);
              expect(attempt.refund.status).toBe('succeeded');
              audited += 1;
            }
          }
          h.clock.advance(1_000);
          checkInvariants(h, payment, intentId);
        }
        expect(h.memory.tables.audit.filter((a) => a.action === 'refund.requested')).toHaveLength(audited);
        expect(h.refundCallsInTransaction).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
