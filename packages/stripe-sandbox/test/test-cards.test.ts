import Stripe from 'stripe';
import { TEST_CARDS, type TestCard } from '../src/index.js';
import { confirmWith, harness, type Harness, idOf, newKey, stripeError } from './harness.js';

/* SANDBOX.md §4.2 and §8.6: every row of the test-card table, by alias and by raw number. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

const needsChallenge = (card: TestCard): boolean =>
  card.threeDSecure === 'always' || card.threeDSecure === 'unless_set_up';

/** Ways to pay with a card: each alias, and the raw number through a PaymentMethod. */
async function paymentMethodsFor(stripe: Stripe, card: TestCard): Promise<string[]> {
  const pm = await stripe.paymentMethods.create({
    type: 'card',
    card: { number: card.number, exp_month: 12, exp_year: 2040, cvc: '123' },
  });
  return [...card.aliases.filter((a) => a.startsWith('pm_')), pm.id];
}

async function eventTypes(stripe: Stripe, objectId: string): Promise<string[]> {
  const events = await stripe.events.list({ limit: 100 });
  return events.data
    .filter(
      (e) =>
        (e.data.object as { id?: string; payment_intent?: string }).id === objectId ||
        (e.data.object as { payment_intent?: string }).payment_intent === objectId,
    )
    .map((e) => e.type)
    .reverse();
}

describe.each(TEST_CARDS.map((card) => [`${card.number} (${card.aliases[0] ?? ''})`, card] as const))(
  '%s',
  (_name, card) => {
    if (needsChallenge(card)) {
      it('asks for 3-D Secure on session', async () => {
        const stripe = h.stripe(newKey());
        for (const pm of await paymentMethodsFor(stripe, card)) {
          const pi = await confirmWith(stripe, pm);
          expect(pi.status).toBe('requires_action');
          expect(pi.next_action?.type).toBe('use_stripe_sdk');
          expect(pi.latest_charge).toBeNull();
          expect(await eventTypes(stripe, pi.id)).toEqual([
            'payment_intent.created',
            'payment_intent.requires_action',
          ]);
        }
      });
      return;
    }

    if (card.decline !== undefined) {
      const decline = card.decline;
      it(`declines with ${decline.code}${decline.declineCode === undefined ? '' : `/${decline.declineCode}`}`, async () => {
        const stripe = h.stripe(newKey());
        for (const pm of await paymentMethodsFor(stripe, card)) {
          const error = await stripeError(confirmWith(stripe, pm));
          expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
          expect(error.statusCode).toBe(402);
          expect(error.code).toBe(decline.code);
          // The SDK defaults absent fields to ''; the key check below proves they are absent from the body.
          expect(error.decline_code || undefined).toBe(decline.declineCode);
          expect(error.param || undefined).toBe(decline.param);
          expect(error.message).toBe(decline.message);
          const raw = error.raw as Record<string, unknown>;
          const expectedKeys = [
            'charge',
            'code',
            'doc_url',
            'message',
            'payment_intent',
            'payment_method',
            'request_log_url',
            'type',
          ];
          if (decline.declineCode !== undefined) {
            expectedKeys.push('decline_code');
          }
          if (decline.param !== undefined) {
            expectedKeys.push('param');
          }
          expect(
            Object.keys(raw)
              .filter((k) => !['headers', 'statusCode', 'requestId'].includes(k))
              .sort(),
          ).toEqual(expectedKeys.sort());
          const pi = error.payment_intent as Stripe.PaymentIntent;
          expect(pi.status).toBe('requires_payment_method');
          expect(pi.payment_method).toBeNull();
          expect(pi.latest_charge).toBe(raw.charge);
          expect(pi.last_payment_error).toMatchObject({
            type: 'card_error',
            code: decline.code,
            charge: raw.charge,
            message: decline.message,
          });
          expect(pi.last_payment_error?.decline_code).toBe(decline.declineCode);
          expect(pi.last_payment_error?.payment_method?.card?.last4).toBe(card.number.slice(-4));

          const charge = await stripe.charges.retrieve(String(raw.charge));
          expect(charge).toMatchObject({
            status: 'failed',
            paid: false,
            captured: false,
            failure_code: decline.code,
            failure_message: decline.message,
            balance_transaction: null,
            payment_intent: pi.id,
          });
          expect(charge.outcome).toMatchObject({
            network_status: 'declined_by_network',
            type: 'issuer_declined',
          });
          expect(await eventTypes(stripe, pi.id)).toEqual([
            'payment_intent.created',
            'charge.failed',
            'payment_intent.payment_failed',
          ]);
        }
      });
      return;
    }

    it('succeeds', async () => {
      const stripe = h.stripe(newKey());
      for (const pm of await paymentMethodsFor(stripe, card)) {
        const pi = await confirmWith(stripe, pm, { capture_method: 'automatic' });
        expect(pi.status).toBe('succeeded');
        expect(pi.amount_received).toBe(2000);
        expect(pi.last_payment_error).toBeNull();
        const charge = await stripe.charges.retrieve(idOf(pi.latest_charge));
        expect(charge).toMatchObject({
          status: 'succeeded',
          paid: true,
          captured: true,
          amount_captured: 2000,
          amount_refunded: 0,
          refunded: false,
          failure_code: null,
        });
        expect(charge.balance_transaction).toMatch(/^txn_/);
        expect(charge.payment_method_details?.card?.last4).toBe(card.number.slice(-4));
        expect(charge.payment_method_details?.card?.brand).toBe(card.brand);
        expect(await eventTypes(stripe, pi.id)).toEqual([
          'payment_intent.created',
          'charge.succeeded',
          'payment_intent.succeeded',
        ]);
      }
    });
  },
);

describe('test cards, beyond the table', () => {
  it('accepts every alias, as a PaymentMethod id and through GET', async () => {
    const stripe = h.stripe(newKey());
    for (const card of TEST_CARDS) {
      for (const alias of card.aliases.filter((a) => a.startsWith('pm_'))) {
        const pm = await stripe.paymentMethods.retrieve(alias);
        expect(pm.id).toMatch(/^pm_[A-Za-z0-9]{24}$/);
        expect(pm.card?.last4).toBe(card.number.slice(-4));
        expect(pm.customer).toBeNull();
      }
    }
  });

  it('creates PaymentMethods from tokens, and 404s an unknown alias', async () => {
    const stripe = h.stripe();
    const pm = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    expect(pm.card).toMatchObject({ brand: 'visa', last4: '4242' });
    const error = await stripeError(confirmWith(stripe, 'pm_card_nope'));
    expect(error).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'payment_method' });
  });

  it('treats another Luhn-valid number like 4242, and refuses a Luhn failure or a past expiry', async () => {
    const stripe = h.stripe();
    const pi = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      confirm: true,
      allowed_payment_method_types: ['card'],
      // Raw card data is not in the SDK's types (Stripe wants tokens); the API takes it when allowed.
      payment_method_data: {
        type: 'card',
        card: { number: '4111111111111111', exp_month: 1, exp_year: 2040 },
      } as unknown as Stripe.PaymentIntentCreateParams.PaymentMethodData,
    });
    expect(pi.status).toBe('succeeded');

    const luhn = await stripeError(
      stripe.paymentMethods.create({
        type: 'card',
        card: { number: '4242424242424241', exp_month: 1, exp_year: 2040 },
      }),
    );
    expect(luhn).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(luhn).toMatchObject({
      code: 'incorrect_number',
      param: 'number',
      message: 'Your card number is incorrect.',
    });

    const expired = await stripeError(
      stripe.paymentMethods.create({
        type: 'card',
        card: { number: '4242424242424242', exp_month: 1, exp_year: 2001 },
      }),
    );
    expect(expired).toMatchObject({ statusCode: 402, code: 'invalid_expiry_year', param: 'exp_year' });
  });

  it('rejects raw card numbers when configured like an account without raw-card access', async () => {
    const strict = await harness({ rawCardData: 'reject' });
    try {
      const error = await stripeError(
        strict.stripe().paymentMethods.create({
          type: 'card',
          card: { number: '4242424242424242', exp_month: 1, exp_year: 2040 },
        }),
      );
      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error.message).toMatch(
        /^Sending credit card numbers directly to the Stripe API is generally unsafe/,
      );
      await expect(confirmWith(strict.stripe(), 'pm_card_visa')).resolves.toMatchObject({
        status: 'succeeded',
      });
    } finally {
      await strict.close();
    }
  });

  it('opens a dispute on 4000000000000259 a moment after the charge', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_createDispute');
    expect(pi.status).toBe('succeeded');
    expect((await stripe.charges.retrieve(idOf(pi.latest_charge))).disputed).toBe(false);
    h.sandbox.advance(1);
    const charge = await stripe.charges.retrieve(idOf(pi.latest_charge));
    expect(charge.disputed).toBe(true);
    const [event] = (await stripe.events.list({ type: 'charge.dispute.created' })).data;
    expect(event?.data.object).toMatchObject({
      object: 'dispute',
      charge: charge.id,
      status: 'needs_response',
    });
    expect(event?.request).toEqual({ id: null, idempotency_key: null });
    const refund = await stripeError(stripe.refunds.create({ charge: charge.id }));
    expect(refund).toMatchObject({ statusCode: 400, code: 'charge_disputed' });
  });

  it('declines decline cards on attach only when asked to (declineOnAttach)', async () => {
    const stripe = h.stripe();
    const customer = await stripe.customers.create();
    await expect(
      stripe.paymentMethods.attach('pm_card_chargeDeclined', { customer: customer.id }),
    ).resolves.toMatchObject({
      customer: customer.id,
    });
    const strict = await harness({ declineOnAttach: true });
    try {
      const s = strict.stripe();
      const c = await s.customers.create();
      const error = await stripeError(s.paymentMethods.attach('pm_card_chargeDeclined', { customer: c.id }));
      expect(error).toMatchObject({
        statusCode: 402,
        code: 'card_declined',
        decline_code: 'generic_decline',
      });
      const ok = await s.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: c.id });
      expect(ok.customer).toBe(c.id);
      const charge = await stripeError(confirmWith(s, ok.id, { customer: c.id }));
      expect(charge).toMatchObject({ code: 'card_declined' });
    } finally {
      await strict.close();
    }
  });
});
