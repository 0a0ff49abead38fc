import type Stripe from 'stripe';
import { harness, newKey, stripeError, type Harness } from './harness.js';

/* SANDBOX.md §4.1–4.2: customers, and payment methods attached to them. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

describe('customers', () => {
  it('creates, retrieves, updates (customer.updated with previous_attributes), lists and deletes', async () => {
    const stripe = h.stripe(newKey());
    const created = await stripe.customers.create({
      email: 'ada@example.com',
      name: 'Ada',
      metadata: { tier: 'gold' },
    });
    expect(created.id).toMatch(/^cus_[A-Za-z0-9]{14}$/);
    expect(created).toMatchObject({
      object: 'customer',
      email: 'ada@example.com',
      balance: 0,
      livemode: false,
    });
    expect(await stripe.customers.retrieve(created.id)).toMatchObject({ id: created.id, name: 'Ada' });

    const updated = await stripe.customers.update(created.id, { name: 'Ada Lovelace' });
    expect(updated.name).toBe('Ada Lovelace');
    const [event] = (await stripe.events.list({ limit: 1 })).data;
    expect(event).toMatchObject({ type: 'customer.updated', data: { previous_attributes: { name: 'Ada' } } });

    await stripe.customers.create({ email: 'other@example.com' });
    expect((await stripe.customers.list({ email: 'ada@example.com' })).data.map((c) => c.id)).toEqual([
      created.id,
    ]);

    const deleted = await stripe.customers.del(created.id);
    expect(deleted).toEqual(expect.objectContaining({ id: created.id, object: 'customer', deleted: true }));
    expect(await stripe.customers.retrieve(created.id)).toMatchObject({ deleted: true });
    expect((await stripeError(stripe.customers.update(created.id, { name: 'x' }))).code).toBe(
      'resource_missing',
    );
    expect((await stripe.customers.list()).data).toHaveLength(1);
    const types = (await stripe.events.list()).data.map((e) => e.type).reverse();
    expect(types).toEqual(['customer.created', 'customer.updated', 'customer.created', 'customer.deleted']);
  });

  it('attaches a payment method at creation and sets the default', async () => {
    const stripe = h.stripe(newKey());
    const customer = await stripe.customers.create({ payment_method: 'pm_card_visa' });
    const [pm] = (await stripe.customers.listPaymentMethods(customer.id)).data;
    expect(pm?.customer).toBe(customer.id);
    const updated = await stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: pm?.id ?? '' },
      expand: ['invoice_settings.default_payment_method'],
    });
    expect((updated.invoice_settings.default_payment_method as Stripe.PaymentMethod).id).toBe(pm?.id);
    const types = (await stripe.events.list()).data.map((e) => e.type).reverse();
    expect(types).toEqual(['customer.created', 'payment_method.attached', 'customer.updated']);
  });
});

describe('payment methods', () => {
  it('attaches, lists by customer, updates and detaches, with their events', async () => {
    const stripe = h.stripe(newKey());
    const customer = await stripe.customers.create();
    const pm = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '5555555555554444', exp_month: 8, exp_year: 2040, cvc: '123' },
      billing_details: { name: 'Ada', address: { country: 'GB' } },
    });
    expect(pm).toMatchObject({
      type: 'card',
      customer: null,
      billing_details: { name: 'Ada', address: { country: 'GB' } },
    });
    expect(pm.card).toMatchObject({ brand: 'mastercard', last4: '4444', exp_month: 8, exp_year: 2040 });

    const attached = await stripe.paymentMethods.attach(pm.id, { customer: customer.id });
    expect(attached.customer).toBe(customer.id);
    const again = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    await stripe.paymentMethods.attach(again.id, { customer: customer.id });
    const listed = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
    expect(listed.data.map((p) => p.id)).toEqual([again.id, pm.id]);
    expect(listed.url).toBe('/v1/payment_methods');

    const other = await stripe.customers.create();
    const taken = await stripeError(stripe.paymentMethods.attach(pm.id, { customer: other.id }));
    expect(taken.statusCode).toBe(400);

    await stripe.paymentMethods.update(pm.id, { metadata: { nickname: 'work' } });
    const detached = await stripe.paymentMethods.detach(pm.id);
    expect(detached.customer).toBeNull();
    expect((await stripeError(stripe.paymentMethods.detach(pm.id))).statusCode).toBe(400);
    const types = (await stripe.events.list()).data.map((e) => e.type).reverse();
    expect(types).toEqual([
      'customer.created',
      'payment_method.attached',
      'payment_method.attached',
      'customer.created',
      'payment_method.updated',
      'payment_method.detached',
    ]);
  });

  it('fingerprints a card the same way within an account', async () => {
    const stripe = h.stripe();
    const a = await stripe.paymentMethods.retrieve('pm_card_visa');
    const b = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 1, exp_year: 2040 },
    });
    expect(a.card?.fingerprint).toBe(b.card?.fingerprint);
    expect(a.id).not.toBe(b.id);
  });

  it('refuses non-card types and unknown card fields', async () => {
    const stripe = h.stripe();
    const sepa = await stripeError(stripe.paymentMethods.create({ type: 'sepa_debit' }));
    expect(sepa.param).toBe('type');
    const unknown = await h.raw('POST', '/v1/payment_methods', {
      body: 'type=card&card[token]=tok_visa&card[colour]=red',
    });
    expect(unknown.json.error).toMatchObject({ code: 'parameter_unknown', param: 'card[colour]' });
  });
});
