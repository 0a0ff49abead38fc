import Stripe from 'stripe';
import { harness, newKey, stripeError, type Harness } from './harness.js';

/* SANDBOX.md §8.1–4 and §3: configuration, decoding, authentication, headers and error shapes. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

describe('§8.1 configuration and what the SDK sends', () => {
  it('rejects an unknown config key (the SDK, before any request)', () => {
    expect(
      () => new Stripe(h.key, { host: '127.0.0.1', nope: true } as unknown as Stripe.StripeConfig),
    ).toThrow(/Config object may only contain the following/);
  });

  it('receives Bearer auth, the pinned Stripe-Version and form encoding', async () => {
    const key = newKey();
    await h.stripe(key).customers.create({ email: 'ada@example.com' });
    const [entry] = h.sandbox.requests({ account: h.sandbox.accountIdForKey(key) });
    expect(entry).toMatchObject({
      method: 'POST',
      path: '/v1/customers',
      authScheme: 'Bearer',
      stripeVersion: '2026-10-28.endive',
      contentType: 'application/x-www-form-urlencoded',
      status: 200,
    });
    expect(entry?.idempotencyKey).toMatch(/^stripe-node-retry-/);
  });
});

describe('§8.2 decoding', () => {
  it('decodes nested metadata and expand[0], and unsets with empty strings and null', async () => {
    const stripe = h.stripe();
    const customer = await stripe.customers.create({
      description: 'first',
      metadata: { order_id: 'ord_1', keep: 'yes' },
      expand: ['invoice_settings.default_payment_method'],
    });
    expect(customer.metadata).toEqual({ order_id: 'ord_1', keep: 'yes' });
    const updated = await stripe.customers.update(customer.id, {
      description: '',
      metadata: { order_id: '' },
    });
    expect(updated.description).toBeNull();
    expect(updated.metadata).toEqual({ keep: 'yes' });
    const cleared = await stripe.customers.update(customer.id, {
      // stripe-node sends null as an empty string: "unset".
      email: null as unknown as string,
      metadata: '' as unknown as Stripe.MetadataParam,
    });
    expect(cleared.email).toBeNull();
    expect(cleared.metadata).toEqual({});
  });

  it('decodes + and %20 as spaces, and arrays with indices', async () => {
    const res = await h.raw('POST', '/v1/customers', {
      body: 'name=Ada+Lovelace&description=a%20b&preferred_locales[1]=fr&preferred_locales[0]=en',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      name: 'Ada Lovelace',
      description: 'a b',
      preferred_locales: ['en', 'fr'],
    });
  });

  it('rejects arrays with gaps and unknown or malformed parameters', async () => {
    const gap = await h.raw('POST', '/v1/customers', {
      body: 'preferred_locales[0]=en&preferred_locales[2]=fr',
    });
    expect(gap.status).toBe(400);
    expect(gap.json.error.type).toBe('invalid_request_error');

    const unknown = await stripeError(
      h.stripe().customers.create({ foo: 'bar' } as Stripe.CustomerCreateParams),
    );
    expect(unknown).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(unknown).toMatchObject({
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'foo',
      message: 'Received unknown parameter: foo',
      doc_url: 'https://stripe.com/docs/error-codes/parameter-unknown',
    });

    const missing = await stripeError(
      h.stripe().paymentIntents.create({ currency: 'usd' } as Stripe.PaymentIntentCreateParams),
    );
    expect(missing).toMatchObject({
      code: 'parameter_missing',
      param: 'amount',
      message: 'Missing required param: amount.',
    });

    const integer = await h.raw('POST', '/v1/payment_intents', { body: 'amount=abc&currency=usd' });
    expect(integer.json.error).toMatchObject({ code: 'parameter_invalid_integer', param: 'amount' });
  });
});

describe('§8.3 authentication', () => {
  it('answers a missing key with Stripe 401', async () => {
    const res = await h.raw('GET', '/v1/customers', { key: null });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({
      error: {
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        type: 'invalid_request_error',
      },
    });
    expect(res.headers['request-id']).toMatch(/^req_[A-Za-z0-9]{14}$/);
  });

  it('answers a malformed or live key with StripeAuthenticationError and a masked key', async () => {
    const error = await stripeError(h.stripe('sk_live_abcdefghijklmnopwxyz').customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.statusCode).toBe(401);
    expect(error.type).toBe('StripeAuthenticationError');
    expect(error.message).toBe(`Invalid API Key provided: sk_live_abc${'*'.repeat(13)}wxyz`);
  });

  it('accepts Basic auth with the key as the user name', async () => {
    const basic = Buffer.from(`${h.key}:`).toString('base64');
    const res = await h.raw('GET', '/v1/customers', {
      key: null,
      headers: { Authorization: `Basic ${basic}` },
    });
    expect(res.status).toBe(200);
  });

  it('keeps each key its own account', async () => {
    const a = h.stripe(newKey());
    const b = h.stripe(newKey());
    const customer = await a.customers.create({ email: 'a@example.com' });
    const error = await stripeError(b.customers.retrieve(customer.id));
    expect(error).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect((await b.customers.list()).data).toEqual([]);
  });

  it('restricts to the configured keys when told to', async () => {
    const allowed = newKey();
    const restricted = await harness({ apiKeys: [allowed] });
    try {
      await expect(restricted.stripe(allowed).customers.list()).resolves.toMatchObject({ object: 'list' });
      const error = await stripeError(restricted.stripe(newKey()).customers.list());
      expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    } finally {
      await restricted.close();
    }
  });
});

describe('§8.4 headers', () => {
  it('gives every response a unique Request-Id that the SDK exposes, and echoes Stripe-Version', async () => {
    const stripe = h.stripe();
    const first = await stripe.customers.create();
    const second = await stripe.customers.list({ limit: 1 });
    for (const r of [first, second]) {
      expect(r.lastResponse.requestId).toMatch(/^req_[A-Za-z0-9]{14}$/);
      expect(r.lastResponse.apiVersion).toBe('2026-10-28.endive');
    }
    expect(first.lastResponse.requestId).not.toBe(second.lastResponse.requestId);
    expect(first.lastResponse.idempotencyKey).toMatch(/^stripe-node-retry-/);
  });

  it('echoes a requested Stripe-Version and defaults to the account version without one', async () => {
    const asked = await h.raw('GET', '/v1/customers', { headers: { 'Stripe-Version': '2025-09-30.clover' } });
    expect(asked.headers['stripe-version']).toBe('2025-09-30.clover');
    const none = await h.raw('GET', '/v1/customers');
    expect(none.headers['stripe-version']).toBe('2026-10-28.endive');
    expect(none.headers['content-type']).toBe('application/json');
    expect(none.text).not.toMatch(/\n$/);
  });
});

describe('§3 errors', () => {
  it('answers an unknown URL with 404 and Stripe message', async () => {
    const res = await h.raw('GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({
      message:
        'Unrecognized request URL (GET: /v1/nope). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.',
      type: 'invalid_request_error',
    });
    expect(res.json.error.request_log_url).toMatch(/^https:\/\/dashboard\.stripe\.com\/test\/logs\/req_/);
  });

  it('answers unknown ids with resource_missing and the parameter name', async () => {
    const error = await stripeError(h.stripe().paymentIntents.retrieve('pi_123'));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'intent',
      message: "No such payment_intent: 'pi_123'",
      doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    });
    expect(error.raw).toHaveProperty('request_log_url');
    expect(Object.keys(error.raw as object)).not.toContain('decline_code');
  });

  it('answers a body over 1 MiB with 413, still with a Request-Id', async () => {
    const res = await h.raw('POST', '/v1/customers', { body: `description=${'x'.repeat(1024 * 1024 + 1)}` });
    expect(res.status).toBe(413);
    expect(res.headers['request-id']).toMatch(/^req_/);
  });

  it('accepts a doubled slash and refuses Connect', async () => {
    expect((await h.raw('GET', '//v1//customers')).status).toBe(200);
    const connect = await h.raw('GET', '/v1/customers', { headers: { 'Stripe-Account': 'acct_123' } });
    expect(connect.status).toBe(400);
  });
});
