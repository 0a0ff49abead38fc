import type Stripe from 'stripe';
import { confirmWith, harness, type Harness, idOf, newKey, stripeError } from './harness.js';

/* SANDBOX.md §3.7–3.8, §8.10–11: pagination and expansion. */

let h: Harness;
let stripe: Stripe;
let ids: string[];
beforeAll(async () => {
  h = await harness();
  stripe = h.stripe(newKey());
  ids = [];
  // 250 customers, created in order; ties on `created` are broken by creation order.
  for (let i = 0; i < 250; i += 1) {
    ids.push((await stripe.customers.create({ email: `c${i}@example.com` })).id);
    if (i % 100 === 99) {
      h.sandbox.advance(1);
    }
  }
});
afterAll(() => h.close());

describe('lists', () => {
  it('pages newest first with has_more and url, default limit 10', async () => {
    const page = await stripe.customers.list();
    expect(page).toMatchObject({ object: 'list', url: '/v1/customers', has_more: true });
    expect(page.data.map((c) => c.id)).toEqual(ids.slice(-10).reverse());
    expect(page).not.toHaveProperty('total_count');
  });

  it('follows starting_after and ending_before', async () => {
    const first = await stripe.customers.list({ limit: 3 });
    const second = await stripe.customers.list({ limit: 3, starting_after: first.data[2]?.id ?? '' });
    expect(second.data.map((c) => c.id)).toEqual(ids.slice(-6, -3).reverse());
    const back = await stripe.customers.list({ limit: 3, ending_before: second.data[0]?.id ?? '' });
    expect(back.data.map((c) => c.id)).toEqual(first.data.map((c) => c.id));
    expect(back.has_more).toBe(false);
    const oldest = await stripe.customers.list({ limit: 5, starting_after: ids[3] ?? '' });
    expect(oldest.data.map((c) => c.id)).toEqual(ids.slice(0, 3).reverse());
    expect(oldest.has_more).toBe(false);
  });

  it('enforces limit bounds and cursors', async () => {
    for (const limit of [0, 101]) {
      const error = await stripeError(stripe.customers.list({ limit }));
      expect(error).toMatchObject({ statusCode: 400, param: 'limit' });
    }
    expect((await stripe.customers.list({ limit: 100 })).data).toHaveLength(100);
    const unknown = await stripeError(stripe.customers.list({ starting_after: 'cus_nope' }));
    expect(unknown).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    const both = await stripeError(
      stripe.customers.list({ starting_after: ids[1] ?? '', ending_before: ids[2] ?? '' }),
    );
    expect(both.statusCode).toBe(400);
  });

  it('auto-paginates over 250 objects with for await, both ways', async () => {
    const seen: string[] = [];
    for await (const customer of stripe.customers.list({ limit: 100 })) {
      seen.push(customer.id);
    }
    expect(seen).toEqual([...ids].reverse());
    const backwards: string[] = [];
    for await (const customer of stripe.customers.list({ limit: 40, ending_before: ids[0] ?? '' })) {
      backwards.push(customer.id);
    }
    expect(backwards).toEqual(ids.slice(1));
  });

  it('filters by created, customer, payment_intent and charge', async () => {
    const created = (await stripe.customers.retrieve(ids[200] ?? '')) as Stripe.Customer;
    const since = await stripe.customers.list({ created: { gte: created.created }, limit: 100 });
    expect(since.data.every((c) => c.created >= created.created)).toBe(true);
    expect(since.data).toHaveLength(50);
    expect((await stripe.customers.list({ created: created.created - 1, limit: 100 })).data).toHaveLength(
      100,
    );

    const s = h.stripe(newKey());
    const customer = await s.customers.create();
    const mine = await confirmWith(s, 'pm_card_visa', { customer: customer.id });
    await confirmWith(s, 'pm_card_visa');
    expect((await s.paymentIntents.list({ customer: customer.id })).data.map((p) => p.id)).toEqual([mine.id]);
    expect((await s.charges.list({ payment_intent: mine.id })).data.map((c) => c.id)).toEqual([
      mine.latest_charge,
    ]);
    expect((await s.charges.list({ customer: customer.id })).data).toHaveLength(1);
    await s.refunds.create({ payment_intent: mine.id, amount: 100 });
    expect((await s.refunds.list({ charge: idOf(mine.latest_charge) })).data).toHaveLength(1);
    expect((await s.refunds.list({ payment_intent: 'pi_other' })).data).toHaveLength(0);
  });
});

describe('expand', () => {
  it('expands latest_charge, nested paths and list items', async () => {
    const s = h.stripe(newKey());
    const customer = await s.customers.create({ email: 'x@example.com' });
    const pi = await confirmWith(s, 'pm_card_visa', {
      customer: customer.id,
      expand: ['latest_charge', 'customer'],
    });
    const charge = pi.latest_charge as Stripe.Charge;
    expect(charge.object).toBe('charge');
    expect((pi.customer as Stripe.Customer).email).toBe('x@example.com');
    const listed = await s.paymentIntents.list({ expand: ['data.latest_charge', 'data.payment_method'] });
    expect((listed.data[0]?.latest_charge as Stripe.Charge).id).toBe(charge.id);
    expect((listed.data[0]?.payment_method as Stripe.PaymentMethod).object).toBe('payment_method');
    const deep = await s.charges.retrieve(charge.id, {
      expand: ['payment_intent.customer', 'payment_intent.latest_charge'],
    });
    const intent = deep.payment_intent as Stripe.PaymentIntent;
    expect((intent.customer as Stripe.Customer).id).toBe(customer.id);
    expect((intent.latest_charge as Stripe.Charge).id).toBe(charge.id);
    // Expansion never changes what is stored.
    expect((await s.paymentIntents.retrieve(pi.id)).latest_charge).toBe(charge.id);
  });

  it('allows four levels and refuses five, and refuses what cannot be expanded', async () => {
    const s = h.stripe(newKey());
    const pi = await confirmWith(s, 'pm_card_visa', { customer: (await s.customers.create()).id });
    const four = await s.paymentIntents.retrieve(pi.id, {
      expand: ['latest_charge.payment_intent.latest_charge.customer'],
    });
    expect(((four.latest_charge as Stripe.Charge).payment_intent as Stripe.PaymentIntent).object).toBe(
      'payment_intent',
    );
    const five = await stripeError(
      s.paymentIntents.retrieve(pi.id, {
        expand: ['latest_charge.payment_intent.latest_charge.payment_intent.customer'],
      }),
    );
    expect(five).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError' });
    const bad = await stripeError(s.paymentIntents.retrieve(pi.id, { expand: ['amount'] }));
    expect(bad).toMatchObject({ statusCode: 400, message: 'This property cannot be expanded (amount).' });
    const notData = await stripeError(s.paymentIntents.list({ expand: ['latest_charge'] }));
    expect(notData.statusCode).toBe(400);
  });
});
