import type Stripe from 'stripe';
import { ControlError } from '../src/index.js';
import { confirmWith, harness, type Harness, idOf, newKey, stripeError } from './harness.js';
import { sandboxHarness } from './webhooks-sandbox.js';

/*
 * SANDBOX.md §4.5 and docs.stripe.com/testing ("Simulate an asynchronous refund"): the refunds of
 * 4000000000007726 start pending and succeed later, those of 4000000000005126 look succeeded and fail
 * later. "Later" is the sandbox clock (5 s by default) or `POST /_sandbox/refunds/:id/settle`.
 */

const DELAY = 5;

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

/** Event types of the account, oldest first (the API lists newest first). */
async function eventTypes(stripe: Stripe): Promise<string[]> {
  return (await stripe.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

async function eventsOf(stripe: Stripe, type: string): Promise<Stripe.Event[]> {
  return (await stripe.events.list({ type, limit: 100 })).data;
}

function controlError(call: () => unknown): ControlError {
  try {
    call();
  } catch (error) {
    if (error instanceof ControlError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a ControlError');
}

describe('4000000000005126 (pm_card_refundFail): refunds look succeeded, then fail', () => {
  it('fails the refund when the clock passes the delay, and gives the amount back to the charge', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_refundFail', { amount: 5000 });
    expect(pi.status).toBe('succeeded');
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 2000 });
    expect(refund).toMatchObject({ status: 'succeeded', amount: 2000 });
    expect(refund).not.toHaveProperty('failure_reason');
    const chargeId = idOf(pi.latest_charge);
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 2000, refunded: false });

    h.sandbox.advance(DELAY - 1);
    expect((await stripe.refunds.retrieve(refund.id)).status).toBe('succeeded');

    h.sandbox.advance(1);
    const failed = await stripe.refunds.retrieve(refund.id, { expand: ['failure_balance_transaction'] });
    expect(failed).toMatchObject({
      id: refund.id,
      status: 'failed',
      amount: 2000,
      failure_reason: 'expired_or_canceled_card',
      failure_balance_transaction: { object: 'balance_transaction', type: 'refund_failure', amount: 2000 },
    });
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 0, refunded: false });
  });

  it('emits refund.updated, charge.refund.updated and refund.failed as automatic events', async () => {
    const stripe = h.stripe(newKey());
    // Immediate capture: no `charge.updated` of an asynchronous capture among the events.
    const pi = await confirmWith(stripe, 'pm_card_refundFail', { capture_method: 'automatic' });
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
    h.sandbox.advance(DELAY);

    expect((await eventTypes(stripe)).slice(-5)).toEqual([
      'refund.created',
      'charge.refunded',
      'refund.updated',
      'charge.refund.updated',
      'refund.failed',
    ]);
    const previous = { status: 'succeeded', failure_reason: null, failure_balance_transaction: null };
    for (const type of ['refund.updated', 'charge.refund.updated']) {
      const [event] = await eventsOf(stripe, type);
      expect(event?.data.object).toMatchObject({ id: refund.id, status: 'failed' });
      expect(event?.data.previous_attributes).toEqual(previous);
      expect(event?.request).toEqual({ id: null, idempotency_key: null });
    }
    const [failedEvent] = await eventsOf(stripe, 'refund.failed');
    expect(failedEvent?.data.object).toMatchObject({
      id: refund.id,
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
    });
    expect(failedEvent?.data.previous_attributes).toBeUndefined();
  });

  it('lets a fully refunded charge be refunded again once its refund failed', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_refundFail', { amount: 3000 });
    const whole = await stripe.refunds.create({ payment_intent: pi.id });
    const chargeId = idOf(pi.latest_charge);
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 3000, refunded: true });
    expect((await stripeError(stripe.refunds.create({ payment_intent: pi.id }))).code).toBe(
      'charge_already_refunded',
    );

    h.sandbox.advance(DELAY);
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 0, refunded: false });
    const again = await stripe.refunds.create({ payment_intent: pi.id });
    expect(again).toMatchObject({ amount: 3000, status: 'succeeded' });
    expect(again.id).not.toBe(whole.id);
    const statuses = (await stripe.refunds.list({ payment_intent: pi.id })).data.map((r) => r.status);
    expect(statuses).toEqual(['succeeded', 'failed']);
  });

  it('behaves the same for the raw number and the tok_ alias', async () => {
    const stripe = h.stripe(newKey());
    const pm = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4000000000005126', exp_month: 12, exp_year: 2034, cvc: '123' },
    });
    const viaNumber = await confirmWith(stripe, pm.id);
    const viaToken = await confirmWith(stripe, 'tok_refundFail');
    const refunds = await Promise.all(
      [viaNumber, viaToken].map((pi) => stripe.refunds.create({ payment_intent: pi.id })),
    );
    h.sandbox.advance(DELAY);
    for (const refund of refunds) {
      expect((await stripe.refunds.retrieve(refund.id)).status).toBe('failed');
    }
  });

  it('releases an uncaptured charge at once, never failing it: no money moved', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_refundFail', { capture_method: 'manual' });
    const release = await stripe.refunds.create({ payment_intent: pi.id });
    h.sandbox.advance(DELAY);
    expect((await stripe.refunds.retrieve(release.id)).status).toBe('succeeded');
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('canceled');
  });
});

describe('4000000000007726 (pm_card_pendingRefund): refunds start pending, then succeed', () => {
  it('counts the pending refund against the charge at once, and succeeds it when the clock gets there', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_pendingRefund', { amount: 4000 });
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 3000 });
    expect(refund).toMatchObject({ status: 'pending', pending_reason: 'processing', amount: 3000 });
    const chargeId = idOf(pi.latest_charge);
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 3000, refunded: false });
    const over = await stripeError(stripe.refunds.create({ payment_intent: pi.id, amount: 1001 }));
    expect(over.message).toBe('Refund amount ($10.01) is greater than unrefunded amount on charge ($10.00)');

    h.sandbox.advance(DELAY - 1);
    expect((await stripe.refunds.retrieve(refund.id)).status).toBe('pending');
    h.sandbox.advance(1);
    expect(await stripe.refunds.retrieve(refund.id)).toMatchObject({
      status: 'succeeded',
      pending_reason: null,
    });
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 3000, refunded: false });
  });

  it('emits refund.updated and charge.refund.updated, and no refund.failed', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_pendingRefund', { capture_method: 'automatic' });
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    const [created] = await eventsOf(stripe, 'refund.created');
    expect(created?.data.object).toMatchObject({ id: refund.id, status: 'pending' });
    h.sandbox.advance(DELAY);

    expect((await eventTypes(stripe)).slice(-4)).toEqual([
      'refund.created',
      'charge.refunded',
      'refund.updated',
      'charge.refund.updated',
    ]);
    for (const type of ['refund.updated', 'charge.refund.updated']) {
      const [event] = await eventsOf(stripe, type);
      expect(event?.data.object).toMatchObject({ id: refund.id, status: 'succeeded' });
      expect(event?.data.previous_attributes).toEqual({ status: 'pending', pending_reason: 'processing' });
    }
    expect(await eventsOf(stripe, 'refund.failed')).toEqual([]);
  });
});

describe('POST /_sandbox/refunds/:id/settle', () => {
  it('fails a refund of pm_card_refundFail now, and the clock then changes nothing', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_refundFail', { amount: 2500 });
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
    const res = await h.control('POST', `refunds/${refund.id}/settle`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: refund.id,
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
    });
    expect(await stripe.charges.retrieve(idOf(pi.latest_charge))).toMatchObject({ amount_refunded: 0 });

    h.sandbox.advance(DELAY);
    expect(await eventsOf(stripe, 'refund.failed')).toHaveLength(1);
    expect(await eventsOf(stripe, 'refund.updated')).toHaveLength(1);
    expect((await stripe.charges.retrieve(idOf(pi.latest_charge))).amount_refunded).toBe(0);
  });

  it('succeeds a pending refund of pm_card_pendingRefund now', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_pendingRefund');
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 700 });
    const res = await h.control('POST', `refunds/${refund.id}/settle`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: refund.id, status: 'succeeded' });
    h.sandbox.advance(DELAY);
    expect(await eventsOf(stripe, 'refund.updated')).toHaveLength(1);
    expect(await stripe.charges.retrieve(idOf(pi.latest_charge))).toMatchObject({ amount_refunded: 700 });
  });

  it('answers 409 for a refund with no change ahead and 404 for an unknown one', async () => {
    const stripe = h.stripe(newKey());
    const visa = await confirmWith(stripe, 'pm_card_visa');
    const plain = await stripe.refunds.create({ payment_intent: visa.id });
    const plainRes = await h.control('POST', `refunds/${plain.id}/settle`);
    expect(plainRes.status).toBe(409);
    expect(plainRes.json.error).toMatchObject({ type: 'sandbox_error' });

    const failing = await confirmWith(stripe, 'pm_card_refundFail');
    const refund = await stripe.refunds.create({ payment_intent: failing.id });
    expect((await h.control('POST', `refunds/${refund.id}/settle`)).status).toBe(200);
    expect((await h.control('POST', `refunds/${refund.id}/settle`)).status).toBe(409);
    expect((await h.control('POST', 'refunds/re_nope/settle')).status).toBe(404);
  });

  it('is also the handle’s settleRefund, with the same refusals', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_pendingRefund');
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    expect(h.sandbox.settleRefund(refund.id)).toMatchObject({ id: refund.id, status: 'succeeded' });
    expect(controlError(() => h.sandbox.settleRefund(refund.id)).status).toBe(409);
    expect(controlError(() => h.sandbox.settleRefund('re_nope')).status).toBe(404);
  });
});

describe('what the checkers and receivers read', () => {
  it('keeps one ledger object per refund, and the lists show the final statuses and amounts', async () => {
    const key = newKey();
    const stripe = h.stripe(key);
    const pi = await confirmWith(stripe, 'pm_card_refundFail', { amount: 6000 });
    const first = await stripe.refunds.create({ payment_intent: pi.id, amount: 2500 });
    h.sandbox.advance(DELAY);
    const second = await stripe.refunds.create({ payment_intent: pi.id, amount: 6000 });
    h.sandbox.settleRefund(second.id);
    const third = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });

    const ledger = await h.control('GET', `ledger?kind=refund&account=${h.sandbox.accountIdForKey(key)}`);
    const objects = (ledger.json as { data: { id: string }[] }).data;
    expect(objects.map((o) => o.id)).toEqual([first.id, second.id, third.id]);
    const listed = (await stripe.refunds.list({ payment_intent: pi.id })).data;
    expect(listed.map((r) => [r.id, r.status])).toEqual([
      [third.id, 'succeeded'],
      [second.id, 'failed'],
      [first.id, 'failed'],
    ]);
    expect(await stripe.charges.retrieve(idOf(pi.latest_charge))).toMatchObject({
      amount_refunded: 1000,
      refunded: false,
    });
  });

  it('delivers refund.failed, signed, to a webhook endpoint', async () => {
    const w = await sandboxHarness();
    try {
      const endpoint = await w.stripe.webhookEndpoints.create({
        url: w.receiver.url,
        enabled_events: ['refund.failed'],
      });
      const pi = await confirmWith(w.stripe, 'pm_card_refundFail');
      const refund = await w.stripe.refunds.create({ payment_intent: pi.id });
      await w.control('POST', 'clock', { advance_seconds: DELAY });
      const [received] = await w.receiver.waitFor(1);
      const event = await w.verify(received, endpoint.secret ?? '');
      expect(event.type).toBe('refund.failed');
      expect(event.data.object).toMatchObject({ id: refund.id, status: 'failed' });
    } finally {
      await w.close();
    }
  });

  it('fails the refund by a timer on a real clock', async () => {
    const real = await harness({ clock: 'real', asyncRefundDelaySeconds: 0.2 });
    try {
      const stripe = real.stripe();
      const pi = await confirmWith(stripe, 'pm_card_refundFail');
      const refund = await stripe.refunds.create({ payment_intent: pi.id });
      let status = refund.status;
      for (const deadline = Date.now() + 5000; status === 'succeeded' && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (await stripe.refunds.retrieve(refund.id)).status;
      }
      expect(status).toBe('failed');
    } finally {
      await real.close();
    }
  });

  it('answers with the final status at once with a delay of 0', async () => {
    const now = await harness({ asyncRefundDelaySeconds: 0 });
    try {
      const stripe = now.stripe();
      const pending = await confirmWith(stripe, 'pm_card_pendingRefund');
      expect((await stripe.refunds.create({ payment_intent: pending.id })).status).toBe('succeeded');
      const failing = await confirmWith(stripe, 'pm_card_refundFail');
      expect((await stripe.refunds.create({ payment_intent: failing.id })).status).toBe('failed');
      expect((await eventTypes(stripe)).slice(-3)).toEqual([
        'refund.updated',
        'charge.refund.updated',
        'refund.failed',
      ]);
    } finally {
      await now.close();
    }
  });
});
