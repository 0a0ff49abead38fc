import Stripe from 'stripe';
import { confirmWith, harness, newKey, stripeError, type Harness } from './harness.js';

/* SANDBOX.md §3.6 and §8.5: idempotency exactly as Stripe does it. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

const PI_BODY =
  'amount=2000&currency=usd&payment_method=pm_card_visa&allowed_payment_method_types[0]=card&confirm=true';

describe('replay', () => {
  it('replays the stored response byte for byte, with a new Request-Id and Idempotent-Replayed', async () => {
    const key = newKey();
    const headers = { 'Idempotency-Key': 'replay-1' };
    const first = await h.raw('POST', '/v1/payment_intents', { key, body: PI_BODY, headers });
    const second = await h.raw('POST', '/v1/payment_intents', { key, body: PI_BODY, headers });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers['original-request']).toBe(first.headers['request-id']);
    expect(second.headers['request-id']).not.toBe(first.headers['request-id']);
    expect(second.headers['idempotency-key']).toBe('replay-1');
    expect(h.sandbox.ledger.count('payment_intent', h.sandbox.accountIdForKey(key))).toBe(1);
  });

  it('ignores parameter order when comparing requests', async () => {
    const headers = { 'Idempotency-Key': 'order-1' };
    const first = await h.raw('POST', '/v1/customers', { body: 'email=a%40b.c&name=Ada', headers });
    const second = await h.raw('POST', '/v1/customers', { body: 'name=Ada&email=a%40b.c', headers });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json.id).toBe(first.json.id);
  });

  it('is visible through the SDK, and a replay emits no events', async () => {
    const stripe = h.stripe(newKey());
    const first = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'sdk-1' });
    const events = (await stripe.events.list({ limit: 100 })).data.length;
    const second = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'sdk-1' });
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect((await stripe.events.list({ limit: 100 })).data).toHaveLength(events);
  });

  it('stores and replays a 402 decline', async () => {
    const key = newKey();
    const stripe = h.stripe(key);
    const first = await stripeError(
      confirmWith(stripe, 'pm_card_chargeDeclined', {}, { idempotencyKey: 'decline-1' }),
    );
    const second = await stripeError(
      confirmWith(stripe, 'pm_card_chargeDeclined', {}, { idempotencyKey: 'decline-1' }),
    );
    expect(first).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(second).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    // `raw` also holds the response headers and Request-Id, which differ; the envelope does not.
    const envelope = (e: Stripe.errors.StripeError): unknown => ({
      ...(e.raw as object),
      headers: 0,
      requestId: 0,
    });
    expect(envelope(second)).toEqual(envelope(first));
    expect(h.sandbox.ledger.count('charge', h.sandbox.accountIdForKey(key))).toBe(1);
  });

  it('stores a business 400 (a cancel of a succeeded intent) and replays it', async () => {
    const stripe = h.stripe();
    const pi = await confirmWith(stripe, 'pm_card_visa');
    const first = await stripeError(stripe.paymentIntents.cancel(pi.id, {}, { idempotencyKey: 'cancel-1' }));
    const second = await stripeError(stripe.paymentIntents.cancel(pi.id, {}, { idempotencyKey: 'cancel-1' }));
    expect(first.code).toBe('payment_intent_unexpected_state');
    expect(second.headers?.['idempotent-replayed']).toBe('true');
  });
});

describe('mismatch', () => {
  it('refuses a key reused with other parameters: StripeIdempotencyError, 400, Stripe message', async () => {
    const stripe = h.stripe();
    await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'rf-7c1e' });
    const error = await stripeError(
      confirmWith(stripe, 'pm_card_visa', { amount: 2500 }, { idempotencyKey: 'rf-7c1e' }),
    );
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error.statusCode).toBe(400);
    expect(error.message).toBe(
      "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'rf-7c1e' if you meant to execute a different request.",
    );
    expect(error.code).toBeUndefined();
    expect(error.headers?.['stripe-should-retry']).toBe('false');
  });

  it('refuses a key reused on another endpoint', async () => {
    const stripe = h.stripe();
    const pi = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'endpoint-1' });
    const error = await stripeError(
      stripe.refunds.create({ payment_intent: pi.id }, { idempotencyKey: 'endpoint-1' }),
    );
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error.message).toBe(
      "Keys for idempotent requests can only be used for the same endpoint they were first used for ('/v1/refunds' vs '/v1/payment_intents'). Try using a key other than 'endpoint-1' if you meant to execute a different request.",
    );
  });

  it('refuses keys longer than 255 characters', async () => {
    const res = await h.raw('POST', '/v1/customers', { headers: { 'Idempotency-Key': 'k'.repeat(256) } });
    expect(res.status).toBe(400);
  });
});

describe('in flight', () => {
  it('answers 409 idempotency_key_in_use while the first request runs', async () => {
    const stripe = h.stripe();
    h.sandbox.faults.add({ kind: 'delay', ms: 700, times: 1, match: { idempotencyKey: 'rf-9d2f' } });
    const first = confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'rf-9d2f' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const error = await stripeError(confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'rf-9d2f' }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(error).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use', type: 'StripeAPIError' });
    expect(error.raw).toMatchObject({ type: 'invalid_request_error' });
    expect(error.message).toBe(
      'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): rf-9d2f. Please try again later.',
    );
    expect(error.headers?.['stripe-should-retry']).toBe('true');
    expect((await first).status).toBe('succeeded');
  });

  it('lets the SDK, with its default retries, ride out the 409 and get the replay', async () => {
    const stripe = h.stripe(h.key, { maxNetworkRetries: 2 });
    h.sandbox.faults.add({ kind: 'delay', ms: 300, times: 1, match: { idempotencyKey: 'retry-409' } });
    const first = confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'retry-409' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'retry-409' });
    expect(second.id).toBe((await first).id);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
  });

  it('does not block other keys while one is held', async () => {
    const stripe = h.stripe();
    h.sandbox.faults.add({ kind: 'delay', ms: 1000, times: 1, match: { idempotencyKey: 'held' } });
    const held = confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'held' });
    const started = Date.now();
    await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'not-held' });
    expect(Date.now() - started).toBeLessThan(800);
    await held;
  });
});

describe('what is not stored', () => {
  it('stores nothing for a validation failure: fixing the parameters with the same key succeeds', async () => {
    const stripe = h.stripe();
    const error = await stripeError(
      stripe.paymentIntents.create({ amount: 2000 } as Stripe.PaymentIntentCreateParams, {
        idempotencyKey: 'fix-me',
      }),
    );
    expect(error.code).toBe('parameter_missing');
    const pi = await stripe.paymentIntents.create(
      { amount: 2000, currency: 'usd' },
      { idempotencyKey: 'fix-me' },
    );
    expect(pi.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('ignores the key on GET (echoed only)', async () => {
    const res = await h.raw('GET', '/v1/customers', { headers: { 'Idempotency-Key': 'get-key' } });
    expect(res.headers['idempotency-key']).toBe('get-key');
    const again = await h.raw('GET', '/v1/customers', { headers: { 'Idempotency-Key': 'get-key' } });
    expect(again.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('lifetime and scope', () => {
  it('keeps a key 24 hours on the virtual clock, then executes anew', async () => {
    const stripe = h.stripe(newKey());
    const first = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'ttl-1' });
    h.sandbox.advance(86_399);
    const replay = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'ttl-1' });
    expect(replay.id).toBe(first.id);
    h.sandbox.advance(1);
    const fresh = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'ttl-1' });
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('keeps keys per account: the same key in two accounts runs twice', async () => {
    const a = await confirmWith(h.stripe(newKey()), 'pm_card_visa', {}, { idempotencyKey: 'shared' });
    const b = await confirmWith(
      h.stripe(newKey()),
      'pm_card_visa',
      { amount: 999 },
      { idempotencyKey: 'shared' },
    );
    expect(a.id).not.toBe(b.id);
    expect(b.amount).toBe(999);
  });
});
