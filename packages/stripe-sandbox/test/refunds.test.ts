import Stripe from 'stripe';
import { confirmWith, harness, type Harness, idOf, newKey, stripeError } from './harness.js';

/* SANDBOX.md §4.5 and §8.9: refunds up to and past what was captured. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

describe('refunds', () => {
  it('refunds partially, several times, up to the captured amount', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_visa', { amount: 5000 });
    const first = await stripe.refunds.create({
      payment_intent: pi.id,
      amount: 1500,
      reason: 'requested_by_customer',
    });
    expect(first).toMatchObject({
      object: 'refund',
      amount: 1500,
      status: 'succeeded',
      charge: pi.latest_charge,
      payment_intent: pi.id,
      reason: 'requested_by_customer',
      currency: 'usd',
    });
    expect(first.balance_transaction).toMatch(/^txn_/);
    let charge = await stripe.charges.retrieve(idOf(pi.latest_charge));
    expect(charge).toMatchObject({ amount_refunded: 1500, refunded: false });

    await stripe.refunds.create({ charge: charge.id, amount: 2000 });
    const last = await stripe.refunds.create({ payment_intent: pi.id });
    expect(last.amount).toBe(1500);
    charge = await stripe.charges.retrieve(charge.id);
    expect(charge).toMatchObject({ amount_refunded: 5000, refunded: true });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');

    const refunds = await stripe.refunds.list({ payment_intent: pi.id });
    expect(refunds.data.map((r) => r.amount)).toEqual([1500, 2000, 1500]);
    const expanded = await stripe.charges.retrieve(charge.id, { expand: ['refunds'] });
    expect(expanded.refunds?.data).toHaveLength(3);
  });

  it('refuses more than the unrefunded amount, with Stripe message and param', async () => {
    const stripe = h.stripe();
    const pi = await confirmWith(stripe, 'pm_card_visa', { amount: 4500 });
    await stripe.refunds.create({ payment_intent: pi.id, amount: 200 });
    const error = await stripeError(stripe.refunds.create({ payment_intent: pi.id, amount: 4500 }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      statusCode: 400,
      param: 'amount',
      message: 'Refund amount ($45.00) is greater than unrefunded amount on charge ($43.00)',
    });
    expect(error.code).toBeUndefined();
  });

  it('refuses a refund of a fully refunded charge with charge_already_refunded', async () => {
    const stripe = h.stripe();
    const pi = await confirmWith(stripe, 'pm_card_visa');
    await stripe.refunds.create({ payment_intent: pi.id });
    const error = await stripeError(stripe.refunds.create({ payment_intent: pi.id, amount: 1 }));
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'charge_already_refunded',
      message: `Charge ${idOf(pi.latest_charge)} has already been refunded.`,
    });
  });

  it('never refunds more than was captured, even under concurrent requests', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_visa', { amount: 2000 });
    // A latency hold interleaves the requests; each still runs its check-and-refund as one step.
    h.sandbox.faults.add({
      kind: 'latency',
      distribution: { type: 'uniform', min_ms: 0, max_ms: 40, seed: 7 },
      times: 12,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => stripe.refunds.create({ payment_intent: pi.id, amount: 300 })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(6);
    const charge = await stripe.charges.retrieve(idOf(pi.latest_charge));
    expect(charge.amount_refunded).toBe(1800);
    expect(charge.refunded).toBe(false);
  });

  it('emits refund.created and charge.refunded with the updated charge', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_visa');
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
    const [chargeRefunded, refundCreated] = (await stripe.events.list({ limit: 2 })).data;
    expect(refundCreated?.type).toBe('refund.created');
    expect(refundCreated?.data.object).toMatchObject({ id: refund.id });
    expect(chargeRefunded?.type).toBe('charge.refunded');
    expect(chargeRefunded?.data.object).toMatchObject({ id: pi.latest_charge, amount_refunded: 500 });
    expect(chargeRefunded?.data.previous_attributes).toBeUndefined();
  });

  it('releases an uncaptured charge only whole', async () => {
    const stripe = h.stripe();
    const pi = await confirmWith(stripe, 'pm_card_visa', { capture_method: 'manual' });
    expect(pi.status).toBe('requires_capture');
    const partial = await stripeError(stripe.refunds.create({ payment_intent: pi.id, amount: 100 }));
    expect(partial.message).toMatch(/^You cannot partially refund an uncaptured charge/);
    const whole = await stripe.refunds.create({ payment_intent: pi.id });
    expect(whole.amount).toBe(2000);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('canceled');
  });

  it('refunds what a partial capture took, not more', async () => {
    const stripe = h.stripe();
    const pi = await confirmWith(stripe, 'pm_card_visa', { capture_method: 'manual' });
    await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 1200 });
    const error = await stripeError(stripe.refunds.create({ payment_intent: pi.id, amount: 1500 }));
    expect(error.message).toBe('Refund amount ($15.00) is greater than unrefunded amount on charge ($12.00)');
    expect((await stripe.refunds.create({ payment_intent: pi.id })).amount).toBe(1200);
  });

  it('refuses refunds of intents without a successful charge, and unknown targets', async () => {
    const stripe = h.stripe();
    const pi = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd' });
    expect((await stripeError(stripe.refunds.create({ payment_intent: pi.id }))).statusCode).toBe(400);
    expect((await stripeError(stripe.refunds.create({ charge: 'ch_nope' }))).code).toBe('resource_missing');
    expect((await stripeError(stripe.refunds.create({}))).code).toBe('parameter_missing');
  });

  it('updates refund metadata with refund.updated, and refuses to cancel a card refund', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_visa');
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    const updated = await stripe.refunds.update(refund.id, { metadata: { reason: 'late' } });
    expect(updated.metadata).toEqual({ reason: 'late' });
    const [event] = (await stripe.events.list({ limit: 1 })).data;
    expect(event).toMatchObject({ type: 'refund.updated', data: { previous_attributes: { metadata: {} } } });
    expect((await stripeError(stripe.refunds.cancel(refund.id))).statusCode).toBe(400);
  });
});
