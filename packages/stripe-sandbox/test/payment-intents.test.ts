import type Stripe from 'stripe';
import { confirmWith, harness, type Harness, idOf, newKey, stripeError } from './harness.js';

/* SANDBOX.md §4.3: every status, capture, cancel, update, and the parameter rules. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

describe('statuses', () => {
  it('walks requires_payment_method → requires_confirmation → succeeded', async () => {
    const stripe = h.stripe();
    const pi = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'USD',
      allowed_payment_method_types: ['card'],
    });
    expect(pi).toMatchObject({
      status: 'requires_payment_method',
      currency: 'usd',
      payment_method: null,
      latest_charge: null,
    });
    const withPm = await stripe.paymentIntents.update(pi.id, { payment_method: 'pm_card_visa' });
    expect(withPm.status).toBe('requires_confirmation');
    const confirmed = await stripe.paymentIntents.confirm(pi.id);
    expect(confirmed.status).toBe('succeeded');
    expect(confirmed.capture_method).toBe('automatic_async');
    expect(confirmed.latest_charge).toMatch(/^ch_/);
  });

  it('refuses to confirm without a payment method, and to confirm twice', async () => {
    const stripe = h.stripe();
    const pi = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      allowed_payment_method_types: ['card'],
    });
    const missing = await stripeError(stripe.paymentIntents.confirm(pi.id));
    expect(missing).toMatchObject({
      statusCode: 400,
      code: 'payment_intent_unexpected_state',
      message:
        "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
    });
    await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
    const twice = await stripeError(stripe.paymentIntents.confirm(pi.id));
    expect(twice.code).toBe('payment_intent_unexpected_state');
    expect((twice.payment_intent as Stripe.PaymentIntent).status).toBe('succeeded');
  });

  it('captures manually, fully or in part', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_visa', { capture_method: 'manual' });
    expect(pi).toMatchObject({ status: 'requires_capture', amount_capturable: 2000, amount_received: 0 });
    const charge = await stripe.charges.retrieve(idOf(pi.latest_charge));
    expect(charge).toMatchObject({
      captured: false,
      amount_captured: 0,
      balance_transaction: null,
      paid: true,
    });
    const tooMuch = await stripeError(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 2001 }));
    expect(tooMuch).toMatchObject({ statusCode: 400, param: 'amount_to_capture' });
    const captured = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 1500 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 1500, amount_capturable: 0 });
    const after = await stripe.charges.retrieve(charge.id);
    expect(after).toMatchObject({ captured: true, amount_captured: 1500 });
    expect(after.balance_transaction).toMatch(/^txn_/);
    const types = (await stripe.events.list()).data.map((e) => e.type).reverse();
    expect(types).toEqual([
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.amount_capturable_updated',
      'charge.captured',
      'payment_intent.succeeded',
    ]);
    const again = await stripeError(stripe.paymentIntents.capture(pi.id));
    expect(again.message).toBe(
      'This PaymentIntent could not be captured because it has a status of succeeded.',
    );
  });

  it('cancels in the allowed states, releasing an authorisation, and refuses in final ones', async () => {
    const stripe = h.stripe(newKey());
    const open = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd' });
    const canceled = await stripe.paymentIntents.cancel(open.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect(canceled.canceled_at).toBe(h.sandbox.clock.nowSeconds());

    const held = await confirmWith(stripe, 'pm_card_visa', { capture_method: 'manual' });
    await stripe.paymentIntents.cancel(held.id);
    const charge = await stripe.charges.retrieve(idOf(held.latest_charge));
    expect(charge).toMatchObject({ refunded: true, amount_refunded: 2000 });

    const done = await confirmWith(stripe, 'pm_card_visa');
    const error = await stripeError(stripe.paymentIntents.cancel(done.id));
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'payment_intent_unexpected_state',
      message:
        'You cannot cancel this PaymentIntent because it has a status of succeeded. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.',
    });
    expect(error.payment_intent).toMatchObject({ id: done.id, status: 'succeeded' });
  });

  it('updates metadata always, other fields only before confirmation succeeds', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_visa', { metadata: { a: '1' } });
    const updated = await stripe.paymentIntents.update(pi.id, { metadata: { b: '2' }, description: 'paid' });
    expect(updated.metadata).toEqual({ a: '1', b: '2' });
    expect(updated.description).toBe('paid');
    const error = await stripeError(stripe.paymentIntents.update(pi.id, { amount: 3000 }));
    expect(error.code).toBe('payment_intent_unexpected_state');
    const types = (await stripe.events.list()).data.map((e) => e.type);
    expect(types).not.toContain('payment_intent.updated');
  });
});

describe('parameters', () => {
  it('validates amounts and currencies before anything runs', async () => {
    const stripe = h.stripe();
    const small = await stripeError(stripe.paymentIntents.create({ amount: 10, currency: 'usd' }));
    expect(small).toMatchObject({
      code: 'amount_too_small',
      param: 'amount',
      message: 'Amount must be at least $0.50 usd',
    });
    const large = await stripeError(stripe.paymentIntents.create({ amount: 100_000_000, currency: 'usd' }));
    expect(large).toMatchObject({ code: 'amount_too_large', param: 'amount' });
    const currency = await stripeError(stripe.paymentIntents.create({ amount: 2000, currency: 'dollars' }));
    expect(currency.param).toBe('currency');
    const offSession = await stripeError(
      stripe.paymentIntents.create({ amount: 2000, currency: 'usd', off_session: true }),
    );
    expect(offSession.param).toBe('off_session');
  });

  it('checks client_secret on retrieve, and the owner of a payment method', async () => {
    const stripe = h.stripe();
    const pi = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd' });
    expect((await stripe.paymentIntents.retrieve(pi.id, { client_secret: pi.client_secret ?? '' })).id).toBe(
      pi.id,
    );
    expect(
      (await stripeError(stripe.paymentIntents.retrieve(pi.id, { client_secret: 'nope' }))).statusCode,
    ).toBe(400);
    const a = await stripe.customers.create({ payment_method: 'pm_card_visa' });
    const b = await stripe.customers.create();
    const [pm] = (await stripe.paymentMethods.list({ customer: a.id })).data;
    const error = await stripeError(confirmWith(stripe, pm?.id ?? '', { customer: b.id }));
    expect(error).toMatchObject({ statusCode: 400, param: 'payment_method' });
  });

  it('accepts payment_method_data with confirm', async () => {
    const stripe = h.stripe();
    const pi = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      confirm: true,
      allowed_payment_method_types: ['card'],
      payment_method_data: {
        type: 'card',
        card: { token: 'tok_mastercard' },
      } as Stripe.PaymentIntentCreateParams.PaymentMethodData,
    });
    expect(pi.status).toBe('succeeded');
    expect((await stripe.paymentMethods.retrieve(idOf(pi.payment_method))).card?.brand).toBe('mastercard');
  });
});
