import { refundHarness, type RefundHarness } from '../../test/memory/refund-harness.js';
import { DependencyUnavailableError } from '../errors.js';
import { REFUND_CRASH_POINTS } from './refund-service.js';

/*
 * Refunds under faults (RELIABILITY.md B1, C1, P2–P3): Stripe not answering, answering after the
 * connection dropped, refusing, and the process dying at each crash point. Whatever happens, Stripe
 * holds at most one refund per request, and a retry with the same key or one recovery pass finishes it.
 */

const KEY = 'refund-fault-key-0001-abcdef';
const LOCK_TIMEOUT_MS = 60_000;
const HOUR_MS = 60 * 60 * 1000;

function keyOf(h: RefundHarness, key: string) {
  return h.memory.tables.idempotencyKeys.find((k) => k.key === key);
}

describe('refund faults', () => {
  it('answers 503 when Stripe does not answer, keeps the refund pending, and the retry with the same key finishes it', async () => {
    for (const kind of ['unavailable_before', 'unavailable_after'] as const) {
      const h = await refundHarness();
      const { payment } = await h.pay();
      const service = h.refunds();
      h.stripe.fail('createRefund', kind);
      const args = h.request(KEY, { paymentId: payment.id, amount: 700 });
      const first = service.create(...args);
      await expect(first).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(first).rejects.toMatchObject({ retryable: true });
      expect(h.memory.tables.refunds).toEqual([
        expect.objectContaining({ status: 'pending', stripeRefundId: null }),
      ]);
      expect(keyOf(h, KEY)).toMatchObject({
        lockedAt: null,
        responseStatus: null,
        recoveryPoint: 'refund_created',
      });
      expect(h.payment(payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });

      const retried = await service.create(...args);
      expect(retried.refund).toMatchObject({ status: 'succeeded', amount: 700 });
      // Stripe acted once: the retry reused pay's key (answered from Stripe's cache after a lost answer).
      expect(h.stripe.allRefunds()).toHaveLength(1);
      expect(h.stripe.calls.filter((c) => c.method === 'createRefund').map((c) => c.replayed)).toEqual(
        kind === 'unavailable_after' ? [false, true] : [false, false],
      );
      expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 700 });
      expect(h.memory.tables.audit).toHaveLength(1);
    }
  });

  it('leaves one refund at Stripe after a crash at any point, once recovery has run', async () => {
    for (const point of REFUND_CRASH_POINTS) {
      const h = await refundHarness();
      const { payment } = await h.pay();
      const args = h.request(KEY, { paymentId: payment.id });
      h.faults.arm(point);
      await expect(h.refunds().create(...args)).rejects.toThrow();
      expect(h.faults.halted).toBe(true);

      // A new process: recovery takes the abandoned key over once its lock is stale.
      h.faults.restart();
      h.clock.advance(LOCK_TIMEOUT_MS + 1_000);
      const report = await h.refunds().recover();
      expect({ point, failures: report.failures }).toEqual({ point, failures: [] });
      expect({ point, refunds: h.stripe.allRefunds().length }).toEqual({ point, refunds: 1 });
      expect(h.memory.tables.refunds).toEqual([
        expect.objectContaining({ status: 'succeeded', amount: 2_000 }),
      ]);
      expect(h.payment(payment.id)).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });
      expect(keyOf(h, KEY)).toMatchObject({ lockedAt: null, responseStatus: 201, recoveryPoint: 'finished' });

      // The client's retry gets the stored answer, and Stripe hears nothing more.
      const calls = h.stripe.count('createRefund');
      const retried = await h.refunds().create(...args);
      expect(retried).toMatchObject({ replayed: true, refund: { status: 'succeeded' } });
      expect(h.stripe.count('createRefund')).toBe(calls);
      expect(h.memory.tables.audit).toHaveLength(1);
    }
  });

  it('records a refund Stripe refuses as failed, with Stripe’s reason, and stores that answer', async () => {
    const h = await refundHarness();
    const { payment, intentId } = await h.pay();
    // Refunded in Stripe's dashboard behind pay's back (its webhook not delivered yet).
    h.stripe.refund(intentId, 2_000);
    const service = h.refunds();
    const args = h.request(KEY, { paymentId: payment.id, amount: 500 });
    const attempt = await service.create(...args);
    expect(attempt.refund).toMatchObject({
      status: 'failed',
      stripeRefundId: null,
      failureReason: expect.stringMatching(/^charge_already_refunded: /) as unknown,
    });
    expect(attempt.payment).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
    expect(await service.create(...args)).toEqual({ ...attempt, replayed: true });
    expect(h.stripe.count('createRefund')).toBe(1);
    // A failed refund reserves nothing.
    expect((await service.preview({ accountId: h.account.id, paymentId: payment.id })).remaining).toBe(2_000);
  });

  it('recovery asks Stripe past its key window instead of re-sending: none there → canceled, refundable again', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds();
    h.stripe.fail('createRefund', 'unavailable_before');
    await expect(service.create(...h.request(KEY, { paymentId: payment.id }))).rejects.toThrow();
    h.clock.advance(25 * HOUR_MS);
    const report = await service.recover();
    expect(report).toEqual({ keysResumed: 0, refundsResolved: 1, failures: [] });
    expect(h.memory.tables.refunds).toEqual([
      expect.objectContaining({ status: 'canceled', failureReason: 'abandoned' }),
    ]);
    expect(h.stripe.count('createRefund')).toBe(1);
    expect(h.stripe.count('findRefundByRefundId')).toBe(1);
    expect((await service.preview({ accountId: h.account.id, paymentId: payment.id })).remaining).toBe(2_000);
    expect(await service.recover()).toEqual({ keysResumed: 0, refundsResolved: 0, failures: [] });
  });

  it('recovery finds a refund Stripe made whose answer was lost, past the key window, and records it', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds();
    h.stripe.fail('createRefund', 'unavailable_after');
    await expect(service.create(...h.request(KEY, { paymentId: payment.id, amount: 900 }))).rejects.toThrow();
    h.clock.advance(25 * HOUR_MS);
    expect(await service.recover()).toMatchObject({ refundsResolved: 1, failures: [] });
    expect(h.memory.tables.refunds).toEqual([
      expect.objectContaining({
        status: 'succeeded',
        stripeRefundId: h.stripe.allRefunds()[0]?.stripeRefundId,
      }),
    ]);
    expect(h.stripe.count('createRefund')).toBe(1);
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 900 });
  });

  it('recovery settles a refund Stripe left pending by asking Stripe how it stands', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds();
    h.stripe.refundStatusOnCreate = 'pending';
    const attempt = await service.create(...h.request(KEY, { paymentId: payment.id, amount: 1_200 }));
    expect(attempt.refund).toMatchObject({
      status: 'pending',
      stripeRefundId: expect.any(String) as unknown,
    });
    expect(attempt.payment).toMatchObject({ status: 'succeeded', amountRefunded: 0 });

    h.clock.advance(LOCK_TIMEOUT_MS / 2);
    expect(await service.recover()).toMatchObject({ refundsResolved: 0 });
    h.stripe.setRefundStatus(attempt.refund.stripeRefundId ?? '', 'succeeded');
    h.clock.advance(LOCK_TIMEOUT_MS);
    expect(await service.recover()).toEqual({ keysResumed: 0, refundsResolved: 1, failures: [] });
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 1_200 });
    expect(h.stripe.count('retrieveRefund')).toBe(1);
  });

  it('recovery gives back a pending refund Stripe counted and then failed', async () => {
    const h = await refundHarness();
    const { payment, intentId } = await h.pay();
    const service = h.refunds();
    h.stripe.refundStatusOnCreate = 'pending';
    const attempt = await service.create(...h.request(KEY, { paymentId: payment.id }));
    // Stripe's charge.refunded counts the pending refund: the payment shows it refunded.
    await h.deliver(h.stripe.chargeEvent(intentId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });

    h.stripe.setRefundStatus(attempt.refund.stripeRefundId ?? '', 'failed');
    h.clock.advance(2 * LOCK_TIMEOUT_MS);
    expect(await service.recover()).toMatchObject({ refundsResolved: 1, failures: [] });
    expect(h.memory.tables.refunds[0]).toMatchObject({
      status: 'failed',
      failureReason: 'expired_or_canceled_card',
    });
    expect(h.payment(payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
    const back = h.memory.tables.paymentEvents.filter((e) => e.paymentId === payment.id).at(-1);
    expect(back).toMatchObject({
      fromStatus: 'refunded',
      toStatus: 'succeeded',
      // Signed: the event rows of a payment add up to its amountRefunded.
      amount: -2_000,
      cause: { job: 'recovery', refundId: attempt.refund.id },
    });
  });
});
