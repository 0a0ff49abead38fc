import { refundHarness, type RefundHarness } from '../../test/memory/refund-harness.js';
import type { Payment } from '../domain/entities.js';
import { REFUND_SUBSCRIPTION_POLICIES } from './refund-results.js';

/*
 * What a refund does beyond the payment: a full refund of a subscription's payment ends the subscription
 * by the configured policy (whether pay or Stripe's dashboard made it), and a refund that fails after
 * Stripe counted it gives its amount back (the payment moves down by its state machine).
 */

const KEY = 'refund-sub-key-0001-abcdefgh';

function subscriptionOf(h: RefundHarness, payment: Payment) {
  return h.memory.tables.subscriptions.find((s) => s.id === payment.subscriptionId);
}

describe('a full refund of a subscription’s payment', () => {
  it.each(REFUND_SUBSCRIPTION_POLICIES)('follows the policy %s', async (policy) => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const before = subscriptionOf(h, payment);
    expect(before).toMatchObject({ status: 'active', cancelAtPeriodEnd: false });
    const attempt = await h
      .refunds({ subscriptionPolicy: policy })
      .create(...h.request(KEY, { paymentId: payment.id }));
    expect(attempt.payment.status).toBe('refunded');
    const now = h.clock.now();
    const after = subscriptionOf(h, payment);
    switch (policy) {
      case 'cancel_now':
        expect(after).toMatchObject({
          status: 'canceled',
          canceledAt: now,
          endedAt: now,
          nextBillingAt: null,
        });
        break;
      case 'cancel_at_period_end':
        expect(after).toMatchObject({
          status: 'active',
          cancelAtPeriodEnd: true,
          canceledAt: now,
          endedAt: null,
          currentPeriodEnd: before?.currentPeriodEnd,
          nextBillingAt: before?.nextBillingAt,
        });
        break;
      case 'keep':
        expect(after).toEqual(before);
        break;
    }
    const events = h.memory.tables.subscriptionEvents.filter(
      (e) => e.subscriptionId === payment.subscriptionId,
    );
    expect(events.length).toBe(policy === 'keep' ? 2 : 3);
    if (policy !== 'keep') {
      expect(events.at(-1)?.cause).toEqual({ requestId: 'req_refund_1', refundId: attempt.refund.id });
    }
  });

  it('leaves the subscription alone after a partial refund', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    await h.refunds().create(...h.request(KEY, { paymentId: payment.id, amount: 1_999 }));
    expect(subscriptionOf(h, payment)).toMatchObject({ status: 'active', cancelAtPeriodEnd: false });
  });

  it('follows the webhook worker’s policy when the full refund was made in Stripe’s dashboard', async () => {
    const h = await refundHarness();
    const kept = await h.pay();
    const canceled = await h.pay();
    h.stripe.refund(kept.intentId, 2_000);
    await h.deliver(h.stripe.chargeEvent(kept.intentId));
    await h.worker({ refundSubscriptionPolicy: 'keep' }).processDue();
    expect(h.payment(kept.payment.id).status).toBe('refunded');
    expect(subscriptionOf(h, kept.payment)?.status).toBe('active');

    h.stripe.refund(canceled.intentId, 2_000);
    await h.deliver(h.stripe.chargeEvent(canceled.intentId));
    await h.webhooks.processDue();
    expect(subscriptionOf(h, canceled.payment)).toMatchObject({ status: 'canceled', nextBillingAt: null });
  });
});

describe('a refund that fails after Stripe counted it', () => {
  it('lowers the payment by its state machine and makes the amount refundable again', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds({ subscriptionPolicy: 'keep' });
    const first = await service.create(...h.request(KEY, { paymentId: payment.id, amount: 1_500 }));
    expect(first.payment).toMatchObject({ status: 'partially_refunded', amountRefunded: 1_500 });

    // The card is closed: Stripe fails the refund, gives the amount back and says so.
    h.stripe.setRefundStatus(first.refund.stripeRefundId ?? '', 'failed');
    const failed = h.stripe.refundEvent('refund.failed', first.refund.stripeRefundId ?? '');
    await h.deliver(failed);
    expect(await h.webhooks.processDue()).toMatchObject({ processed: 1 });
    expect(h.memory.tables.refunds).toEqual([
      expect.objectContaining({
        id: first.refund.id,
        status: 'failed',
        failureReason: 'expired_or_canceled_card',
      }),
    ]);
    expect(h.payment(payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
    expect(h.memory.tables.paymentEvents.filter((e) => e.paymentId === payment.id).at(-1)).toMatchObject({
      fromStatus: 'partially_refunded',
      toStatus: 'succeeded',
      // Signed: the event rows of a payment add up to its amountRefunded.
      amount: -1_500,
      cause: { stripeEventId: failed.stripeEventId, refundId: first.refund.id },
    });

    // A repeat of the event changes nothing; the whole amount may be refunded again.
    await h.deliver(failed);
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
    const again = await service.create(...h.request(`${KEY}-again`, { paymentId: payment.id }));
    expect(again.refund.amount).toBe(2_000);
    expect(again.payment).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });
  });

  it('takes a refunded payment back to partially_refunded when one of its refunds fails', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds({ subscriptionPolicy: 'keep' });
    await service.create(...h.request(`${KEY}-a`, { paymentId: payment.id, amount: 800 }));
    const second = await service.create(...h.request(`${KEY}-b`, { paymentId: payment.id }));
    expect(second.payment).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });
    h.stripe.setRefundStatus(second.refund.stripeRefundId ?? '', 'failed');
    await h.deliver(h.stripe.refundEvent('refund.updated', second.refund.stripeRefundId ?? ''));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 800 });
    expect((await service.preview({ accountId: h.account.id, paymentId: payment.id })).remaining).toBe(1_200);
  });
});
