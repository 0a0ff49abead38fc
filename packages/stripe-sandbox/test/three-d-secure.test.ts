import Stripe from 'stripe';
import { confirmWith, harness, type Harness, idOf, newKey, rawRequest, stripeError } from './harness.js';

/* SANDBOX.md §4.3, §6.3 and §8.7: 3-D Secure, off-session authentication and the return_url rule. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

const RETURN_URL = 'https://shop.example/return?order=ord_1';

async function challenged(
  stripe: Stripe,
  pm = 'pm_card_threeDSecure2Required',
  params: Partial<Stripe.PaymentIntentCreateParams> = {},
) {
  const pi = await stripe.paymentIntents.create({
    amount: 4200,
    currency: 'eur',
    payment_method: pm,
    confirm: true,
    return_url: RETURN_URL,
    ...params,
  });
  expect(pi.status).toBe('requires_action');
  return pi;
}

describe('requires_action', () => {
  it('points redirect_to_url at the sandbox own page when a return_url is given', async () => {
    const pi = await challenged(h.stripe());
    expect(pi.next_action).toEqual({
      type: 'redirect_to_url',
      redirect_to_url: {
        return_url: RETURN_URL,
        url: `${h.sandbox.url}/_sandbox/3ds/${pi.id}?client_secret=${pi.client_secret ?? ''}`,
      },
    });
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_[A-Za-z0-9]{25}$`));
  });

  it('uses use_stripe_sdk without a return_url', async () => {
    const pi = await confirmWith(h.stripe(), 'pm_card_threeDSecure2Required');
    expect(pi.next_action?.type).toBe('use_stripe_sdk');
    expect(pi.next_action?.use_stripe_sdk).toMatchObject({ type: 'three_d_secure_redirect' });
  });

  it('asks 4000000000003055 for 3-D Secure only when requested', async () => {
    const stripe = h.stripe();
    expect((await confirmWith(stripe, 'pm_card_threeDSecureOptional')).status).toBe('succeeded');
    const asked = await confirmWith(stripe, 'pm_card_threeDSecureOptional', {
      payment_method_options: { card: { request_three_d_secure: 'any' } },
    });
    expect(asked.status).toBe('requires_action');
  });

  it('fails at once with error_on_requires_action', async () => {
    const error = await stripeError(
      confirmWith(h.stripe(), 'pm_card_threeDSecure2Required', { error_on_requires_action: true }),
    );
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error.message).toMatch(/`error_on_requires_action` was set/);
    expect((error.payment_intent as Stripe.PaymentIntent).status).toBe('requires_payment_method');
  });
});

describe('completing the challenge', () => {
  it('through the authenticate route: succeed charges, with the 3-D Secure result on the charge', async () => {
    const stripe = h.stripe(newKey());
    const pi = await challenged(stripe);
    const res = await h.control('POST', `payment_intents/${pi.id}/authenticate`, { outcome: 'succeed' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: pi.id, status: 'succeeded' });
    const after = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
    const charge = after.latest_charge as Stripe.Charge;
    expect(charge.payment_method_details?.card?.three_d_secure).toMatchObject({ result: 'authenticated' });
    const types = (await stripe.events.list()).data.map((e) => e.type).reverse();
    expect(types).toEqual([
      'payment_intent.created',
      'payment_intent.requires_action',
      'charge.succeeded',
      'payment_intent.succeeded',
    ]);
  });

  it('through the authenticate route: fail needs a new payment method', async () => {
    const stripe = h.stripe(newKey());
    const pi = await challenged(stripe);
    const failed = h.sandbox.authenticate(pi.id, 'fail');
    expect(failed.status).toBe('requires_payment_method');
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.payment_method).toBeNull();
    expect(after.last_payment_error).toMatchObject({
      code: 'payment_intent_authentication_failure',
      type: 'invalid_request_error',
      message:
        'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
    });
    expect((await stripe.events.list({ limit: 1 })).data[0]?.type).toBe('payment_intent.payment_failed');
    // A new payment method can be tried.
    const retried = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
    expect(retried.status).toBe('succeeded');
  });

  it('refuses to authenticate an intent that is not awaiting it', async () => {
    const pi = await confirmWith(h.stripe(), 'pm_card_visa');
    const res = await h.control('POST', `payment_intents/${pi.id}/authenticate`, { outcome: 'succeed' });
    expect(res.status).toBe(409);
    expect(
      (await h.control('POST', 'payment_intents/pi_nope/authenticate', { outcome: 'succeed' })).status,
    ).toBe(404);
    expect(
      (await h.control('POST', `payment_intents/${pi.id}/authenticate`, { outcome: 'maybe' })).status,
    ).toBe(400);
  });

  it('declines 4000008400001629 after authentication', async () => {
    const stripe = h.stripe(newKey());
    const pi = await challenged(stripe, 'pm_card_threeDSecureRequiredChargeDeclined');
    const after = h.sandbox.authenticate(pi.id, 'succeed');
    expect(after.status).toBe('requires_payment_method');
    expect(after.last_payment_error).toMatchObject({
      code: 'card_declined',
      decline_code: 'generic_decline',
    });
    const types = (await stripe.events.list({ limit: 2 })).data.map((e) => e.type);
    expect(types).toEqual(['payment_intent.payment_failed', 'charge.failed']);
  });

  it('waits for a confirm after authentication under manual confirmation', async () => {
    const stripe = h.stripe();
    const pi = await challenged(stripe, 'pm_card_threeDSecure2Required', { confirmation_method: 'manual' });
    expect(h.sandbox.authenticate(pi.id, 'succeed').status).toBe('requires_confirmation');
    expect((await stripe.paymentIntents.confirm(pi.id)).status).toBe('succeeded');
  });
});

describe('the page', () => {
  it('shows the challenge with stable element ids', async () => {
    const pi = await challenged(h.stripe());
    const url = new URL(pi.next_action?.redirect_to_url?.url ?? '');
    const page = await rawRequest(h.sandbox.url, 'GET', `${url.pathname}${url.search}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    for (const id of [
      'three-ds-form',
      'complete-authentication',
      'fail-authentication',
      'three-ds-payment-intent',
    ]) {
      expect(page.text).toContain(`id="${id}"`);
    }
    expect(page.text).toContain('data-testid="complete-authentication"');
    expect(page.text).toContain('3220');
    const wrong = await rawRequest(h.sandbox.url, 'GET', `${url.pathname}?client_secret=nope`);
    expect(wrong.status).toBe(404);
  });

  it('a form POST completes the challenge and redirects (303) to return_url with Stripe parameters', async () => {
    const stripe = h.stripe();
    const pi = await challenged(stripe);
    const res = await rawRequest(h.sandbox.url, 'POST', `/_sandbox/3ds/${pi.id}`, {
      body: `client_secret=${encodeURIComponent(pi.client_secret ?? '')}&outcome=succeed`,
    });
    expect(res.status).toBe(303);
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe('https://shop.example/return');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      order: 'ord_1',
      payment_intent: pi.id,
      payment_intent_client_secret: pi.client_secret,
    });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    const again = await rawRequest(h.sandbox.url, 'POST', `/_sandbox/3ds/${pi.id}`, {
      body: `client_secret=${encodeURIComponent(pi.client_secret ?? '')}&outcome=succeed`,
    });
    expect(again.status).toBe(409);
  });

  it('a form POST that fails the challenge redirects too, and the intent needs a new method', async () => {
    const stripe = h.stripe();
    const pi = await challenged(stripe);
    const res = await rawRequest(h.sandbox.url, 'POST', `/_sandbox/3ds/${pi.id}`, {
      body: `client_secret=${encodeURIComponent(pi.client_secret ?? '')}&outcome=fail`,
    });
    expect(res.status).toBe(303);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_payment_method');
  });

  it('shows the result when there is no return_url', async () => {
    const pi = await confirmWith(h.stripe(), 'pm_card_threeDSecure2Required');
    const res = await rawRequest(h.sandbox.url, 'POST', `/_sandbox/3ds/${pi.id}`, {
      body: `client_secret=${encodeURIComponent(pi.client_secret ?? '')}&outcome=succeed`,
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain('id="three-ds-result"');
    expect(res.text).toContain('data-status="succeeded"');
  });
});

describe('off session', () => {
  it('fails 3-D Secure cards off-session with 402 authentication_required and a failed charge', async () => {
    const stripe = h.stripe(newKey());
    const customer = await stripe.customers.create();
    for (const pm of ['pm_card_threeDSecure2Required', 'pm_card_authenticationRequired']) {
      const attached = await stripe.paymentMethods.attach(pm, { customer: customer.id });
      const error = await stripeError(
        confirmWith(stripe, attached.id, { customer: customer.id, off_session: true }),
      );
      expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect(error).toMatchObject({
        code: 'authentication_required',
        decline_code: 'authentication_required',
        message: 'Your card was declined. This transaction requires authentication.',
        doc_url: 'https://stripe.com/docs/error-codes/authentication-required',
      });
      const pi = error.payment_intent as Stripe.PaymentIntent;
      expect(pi.status).toBe('requires_payment_method');
      expect(pi.latest_charge).toBe((error.raw as { charge?: string }).charge);
    }
  });

  it('lets 4000002500003155 pay off-session once set up on session, but not 4000000000003220', async () => {
    const stripe = h.stripe(newKey());
    const customer = await stripe.customers.create();
    for (const [pm, later] of [
      ['pm_card_authenticationRequiredOnSetup', 'succeeded'],
      ['pm_card_threeDSecure2Required', 'authentication_required'],
    ] as const) {
      const first = await challenged(stripe, pm, {
        customer: customer.id,
        setup_future_usage: 'off_session',
      });
      expect(h.sandbox.authenticate(first.id, 'succeed').status).toBe('succeeded');
      const saved = await stripe.paymentMethods.retrieve(idOf(first.payment_method));
      expect(saved.customer).toBe(customer.id);
      const offSession = confirmWith(stripe, saved.id, { customer: customer.id, off_session: true });
      if (later === 'succeeded') {
        expect((await offSession).status).toBe('succeeded');
      } else {
        expect((await stripeError(offSession)).code).toBe('authentication_required');
      }
    }
    const attached = (await stripe.events.list({ type: 'payment_method.attached' })).data;
    expect(attached).toHaveLength(2);
  });
});

describe('the return_url rule (dynamic payment methods)', () => {
  it('needs a return_url to confirm, unless off_session, allow_redirects=never or a card-only list', async () => {
    const key = newKey();
    const stripe = h.stripe(key);
    const error = await stripeError(
      stripe.paymentIntents.create({
        amount: 2000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
      }),
    );
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.message).toMatch(
      /^This PaymentIntent is configured to accept payment methods enabled in your Dashboard/,
    );
    expect(h.sandbox.ledger.count('payment_intent', h.sandbox.accountIdForKey(key))).toBe(0);

    const never = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    expect(never.status).toBe('succeeded');
    expect(never.automatic_payment_methods).toEqual({ allow_redirects: 'never', enabled: true });
    expect((await confirmWith(stripe, 'pm_card_visa')).status).toBe('succeeded');
    const customer = await stripe.customers.create({ payment_method: 'pm_card_visa' });
    const pms = await stripe.customers.listPaymentMethods(customer.id);
    const off = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      customer: customer.id,
      payment_method: pms.data[0]?.id ?? '',
      confirm: true,
      off_session: true,
    });
    expect(off.status).toBe('succeeded');
  });

  it('checks the rule at confirm too', async () => {
    const stripe = h.stripe();
    const pi = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
    });
    expect(pi.status).toBe('requires_confirmation');
    const error = await stripeError(stripe.paymentIntents.confirm(pi.id));
    expect(error.statusCode).toBe(400);
    expect((await stripe.paymentIntents.confirm(pi.id, { return_url: RETURN_URL })).status).toBe('succeeded');
  });
});
