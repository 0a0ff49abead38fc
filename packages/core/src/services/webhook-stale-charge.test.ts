import { webhookHarness } from '../../test/memory/webhook-harness.js';

/*
 * Found by the payment model (RELIABILITY.md I1): Stripe's `charge.refunded` carries the charge's total
 * when it was sent. Delivered after a refund's failure that pay has already applied, that total is
 * older than the failure; raising amount_refunded to it counted the failed refund again, and no later
 * event or recovery pass lowered it back, so pay and Stripe disagreed for good.
 */

describe('a charge.refunded older than a refund failure pay already applied', () => {
  it('leaves amount_refunded at Stripe’s current total instead of counting the failed refund again', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    const refund = h.stripe.refund(intentId, 500);
    const late = h.stripe.chargeEvent(intentId);
    await h.deliver(h.stripe.refundEvent('refund.created', refund.stripeRefundId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 500 });

    h.stripe.setRefundStatus(refund.stripeRefundId, 'failed');
    await h.deliver(h.stripe.refundEvent('refund.failed', refund.stripeRefundId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });

    await h.deliver(late);
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
    expect(h.stripe.chargeOf(intentId).amountRefunded).toBe(0);
  });

  it('still raises amount_refunded for a real refund made after the failure, from the charge read fresh', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    const failed = h.stripe.refund(intentId, 500);
    h.stripe.setRefundStatus(failed.stripeRefundId, 'failed');
    await h.deliver(h.stripe.refundEvent('refund.failed', failed.stripeRefundId));
    await h.webhooks.processDue();

    h.stripe.refund(intentId, 300);
    const retrievesBefore = h.stripe.retrieves.length;
    await h.deliver(h.stripe.chargeEvent(intentId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 300 });
    expect(h.stripe.retrieves.slice(retrievesBefore).map((r) => r.method)).toEqual(['retrieveCharge']);
  });
});
