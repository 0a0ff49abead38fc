import { webhookHarness, type WebhookHarness } from '../../test/memory/webhook-harness.js';
import type { Payment } from '../domain/entities.js';

/*
 * Refund and dispute events: refunds upserted by their Stripe id, the payment's amount_refunded set
 * from Stripe's total with one event row per change, and disputes with their audit rows.
 */

function refundsOf(h: WebhookHarness, paymentId: Payment['id']) {
  return h.memory.tables.refunds.filter((r) => r.paymentId === paymentId);
}

function refundMoves(h: WebhookHarness, paymentId: Payment['id']) {
  return h.memory.tables.paymentEvents
    .filter(
      (e) => e.paymentId === paymentId && (e.toStatus === 'partially_refunded' || e.toStatus === 'refunded'),
    )
    .map((e) => ({ from: e.fromStatus, to: e.toStatus, amount: e.amount }));
}

describe('refund events', () => {
  it('charge.refunded sets amount_refunded from the charge and moves succeeded → partially_refunded → refunded', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    h.stripe.refund(intentId, 500);
    await h.deliver(h.stripe.chargeEvent(intentId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 500 });

    h.stripe.refund(intentId, 1_500);
    await h.deliver(h.stripe.chargeEvent(intentId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });
    expect(refundMoves(h, payment.id)).toEqual([
      { from: 'succeeded', to: 'partially_refunded', amount: 500 },
      { from: 'partially_refunded', to: 'refunded', amount: 1_500 },
    ]);
    // The snapshot carried the total: nothing was fetched.
    expect(h.stripe.retrieves).toEqual([]);
  });

  it('refund.created upserts a dashboard refund (origin stripe) and fetches the charge for the total', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    const refund = h.stripe.refund(intentId, 700);
    const delivery = h.stripe.refundEvent('refund.created', refund.stripeRefundId);
    await h.deliver(delivery);
    await h.webhooks.processDue();

    expect(refundsOf(h, payment.id)).toEqual([
      expect.objectContaining({
        stripeRefundId: refund.stripeRefundId,
        amount: 700,
        status: 'succeeded',
        origin: 'stripe',
      }),
    ]);
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 700 });
    expect(h.stripe.retrieves).toEqual([{ method: 'retrieveCharge', id: refund.stripeChargeId }]);
    const refundId = refundsOf(h, payment.id)[0]?.id;
    expect(h.memory.tables.refundEvents.filter((e) => e.refundId === refundId)).toEqual([
      expect.objectContaining({
        fromStatus: null,
        toStatus: 'succeeded',
        amount: 700,
        cause: { stripeEventId: delivery.stripeEventId },
      }),
    ]);
  });

  it('two events announcing one refund (refund.created and charge.refunded) apply it once, in either order', async () => {
    for (const order of ['refund-first', 'charge-first'] as const) {
      const h = await webhookHarness();
      const { payment, intentId } = await h.pay();
      const refund = h.stripe.refund(intentId, 400);
      const created = h.stripe.refundEvent('refund.created', refund.stripeRefundId);
      const charged = h.stripe.chargeEvent(intentId);
      await h.deliver(...(order === 'refund-first' ? [created, charged] : [charged, created]));
      await h.deliver(created, charged);
      await h.webhooks.processDue();
      expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 400 });
      expect(refundsOf(h, payment.id)).toHaveLength(1);
      expect(refundMoves(h, payment.id)).toEqual([
        { from: 'succeeded', to: 'partially_refunded', amount: 400 },
      ]);
    }
  });

  it('two partial refunds of the same amount made in the dashboard both apply, even with their events reversed', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    const first = h.stripe.refund(intentId, 300);
    const firstEvents = [
      h.stripe.refundEvent('refund.created', first.stripeRefundId),
      h.stripe.chargeEvent(intentId),
    ];
    const second = h.stripe.refund(intentId, 300);
    const secondEvents = [
      h.stripe.refundEvent('refund.created', second.stripeRefundId),
      h.stripe.chargeEvent(intentId),
    ];
    await h.deliver(...secondEvents.reverse(), ...firstEvents.reverse());
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 600 });
    expect(
      refundsOf(h, payment.id)
        .map((r) => r.stripeRefundId)
        .sort(),
    ).toEqual([first.stripeRefundId, second.stripeRefundId].sort());
    const moves = refundMoves(h, payment.id);
    expect(moves.reduce((sum, m) => sum + m.amount, 0)).toBe(600);
  });

  it('charge.refunded before payment_intent.succeeded fetches the intent, succeeds the payment, then refunds it', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    h.stripe.completeThreeDSecure(intentId, true);
    const succeeded = h.stripe.intentEvent('payment_intent.succeeded', intentId);
    h.stripe.refund(intentId, 2_000);
    await h.deliver(h.stripe.chargeEvent(intentId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });
    // The intent's success activated the subscription first; the full refund then ended it (policy cancel_now).
    expect(
      h.memory.tables.subscriptionEvents
        .filter((e) => e.subscriptionId === payment.subscriptionId)
        .map((e) => e.toStatus),
    ).toEqual(['incomplete', 'active', 'canceled']);

    await h.deliver(succeeded);
    expect(await h.webhooks.processDue()).toMatchObject({ processed: 1 });
    expect(h.payment(payment.id)).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });
    expect(
      h.memory.tables.paymentEvents.filter((e) => e.paymentId === payment.id).map((e) => e.toStatus),
    ).toEqual(['pending', 'requires_action', 'succeeded', 'refunded']);
  });

  it('a stale charge.refunded (a smaller total than pay has) changes nothing', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    h.stripe.refund(intentId, 200);
    const older = h.stripe.chargeEvent(intentId);
    h.stripe.refund(intentId, 300);
    const newer = h.stripe.chargeEvent(intentId);
    await h.deliver(newer);
    await h.webhooks.processDue();
    await h.deliver(older);
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 500 });
    expect(refundMoves(h, payment.id)).toHaveLength(1);
  });

  it('refund.updated and refund.failed move the refund forward only; a late refund.created changes nothing', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    const refund = h.stripe.refund(intentId, 900, { status: 'pending' });
    const created = h.stripe.refundEvent('refund.created', refund.stripeRefundId);
    h.stripe.setRefundStatus(refund.stripeRefundId, 'failed');
    const failed = h.stripe.refundEvent('refund.failed', refund.stripeRefundId);
    await h.deliver(failed);
    await h.webhooks.processDue();
    await h.deliver(created);
    await h.webhooks.processDue();

    const [stored] = refundsOf(h, payment.id);
    expect(stored).toMatchObject({
      status: 'failed',
      failureReason: 'expired_or_canceled_card',
      origin: 'stripe',
    });
    expect(
      h.memory.tables.refundEvents.filter((e) => e.refundId === stored?.id).map((e) => e.toStatus),
    ).toEqual(['pending', 'failed']);
    // Stripe gave the amount back before pay heard of the refund: the payment never counted it.
    expect(h.payment(payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
  });

  it('links a refund pay made (named in its metadata) to its Stripe id and moves it to succeeded', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    const own = await h.memory.store.repos.refunds.create(
      {
        accountId: payment.accountId,
        paymentId: payment.id,
        amount: 800,
        currency: 'usd',
        status: 'pending',
        origin: 'pay',
        stripeIdempotencyKey: 'refund-key-1',
      },
      { requestId: 'req_refund' },
    );
    const refund = h.stripe.refund(intentId, 800, { refundId: own.id });
    await h.deliver(h.stripe.refundEvent('refund.created', refund.stripeRefundId));
    await h.webhooks.processDue();
    expect(refundsOf(h, payment.id)).toEqual([
      expect.objectContaining({
        id: own.id,
        stripeRefundId: refund.stripeRefundId,
        status: 'succeeded',
        origin: 'pay',
      }),
    ]);
    expect(h.payment(payment.id)).toMatchObject({ amountRefunded: 800 });
  });

  it('retries a refund of pay’s whose row is not recorded yet', async () => {
    const h = await webhookHarness();
    const { intentId } = await h.pay();
    const refund = h.stripe.refund(intentId, 800, { refundId: 'rfnd_0000000000aaaaaaaaaaaaaaaa' as never });
    await h.deliver(h.stripe.refundEvent('refund.created', refund.stripeRefundId));
    expect(await h.webhooks.processDue()).toMatchObject({ failed: 1 });
    expect(h.memory.tables.webhookEvents[0]?.lastError).toMatch(/not recorded yet/);
  });

  it('asks Stripe whose an unknown intent is: not pay’s → ignored; Stripe not answering → retried', async () => {
    const h = await webhookHarness();
    const { intentId } = await h.pay();
    const refund = h.stripe.refund(intentId, 100);
    const foreign = { ...h.stripe.intent(intentId), stripePaymentIntentId: 'pi_foreign', paymentId: null };
    const delivery = h.stripe.event('refund.created', {
      kind: 'refund',
      refund: { ...refund, stripePaymentIntentId: 'pi_foreign' },
    });
    await h.deliver(delivery);
    // The twin holds no pi_foreign: the retrieve fails and the event waits for another attempt.
    expect(await h.webhooks.processDue()).toMatchObject({ failed: 1 });

    const retrieve = jest.spyOn(h.stripe, 'retrieveIntent').mockResolvedValue(foreign);
    h.clock.advance(60_000);
    expect(await h.webhooks.processDue()).toMatchObject({ ignored: 1 });
    expect(retrieve).toHaveBeenCalledWith('pi_foreign');
    expect(h.memory.tables.refunds).toHaveLength(0);
    expect(h.callsInTransaction).toEqual([]);
  });
});

describe('dispute events', () => {
  it('records a dispute with an opened audit row, and a closed one once it is won or lost', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    const dispute = h.stripe.openDispute(intentId);
    const created = h.stripe.disputeEvent('charge.dispute.created', dispute.stripeDisputeId);
    h.clock.advance(2_000);
    h.stripe.setDisputeStatus(dispute.stripeDisputeId, 'under_review');
    const updated = h.stripe.disputeEvent('charge.dispute.updated', dispute.stripeDisputeId);
    h.clock.advance(2_000);
    h.stripe.setDisputeStatus(dispute.stripeDisputeId, 'lost');
    const closed = h.stripe.disputeEvent('charge.dispute.closed', dispute.stripeDisputeId);
    // Out of order, one of them twice.
    await h.deliver(closed, updated, created, closed);
    await h.webhooks.processDue();

    expect(h.memory.tables.disputes).toEqual([
      expect.objectContaining({
        paymentId: payment.id,
        accountId: payment.accountId,
        stripeDisputeId: dispute.stripeDisputeId,
        status: 'lost',
        amount: 2_000,
        reason: 'fraudulent',
      }),
    ]);
    expect(h.memory.tables.audit.map((a) => [a.action, a.actorType, a.targetId])).toEqual([
      ['dispute.opened', 'system', h.memory.tables.disputes[0]?.id],
      ['dispute.closed', 'system', h.memory.tables.disputes[0]?.id],
    ]);
  });

  it('orders two reports of one second by the dispute’s lifecycle', async () => {
    const h = await webhookHarness();
    const { intentId } = await h.pay();
    const dispute = h.stripe.openDispute(intentId, 'needs_response');
    const created = h.stripe.disputeEvent('charge.dispute.created', dispute.stripeDisputeId);
    h.stripe.setDisputeStatus(dispute.stripeDisputeId, 'won');
    const closed = h.stripe.disputeEvent('charge.dispute.closed', dispute.stripeDisputeId);
    await h.deliver(closed);
    await h.webhooks.processDue();
    await h.deliver(created);
    await h.webhooks.processDue();
    expect(h.memory.tables.disputes[0]?.status).toBe('won');
    expect(h.memory.tables.audit.map((a) => a.action)).toEqual(['dispute.opened', 'dispute.closed']);
  });
});
