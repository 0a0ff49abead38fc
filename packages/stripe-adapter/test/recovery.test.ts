import { intentFor, newPayment, payErrorFields, rejectionOf, startHarness, type Harness } from './harness.js';

/* What the recovery job relies on: looking an intent up by pay's payment id, retrieving and canceling. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('finding an intent by pay’s payment id', () => {
  it('finds the payment’s intent among the customer’s others', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent, stripeCustomerId, card } = await intentFor(gateway, p, 'pm_card_visa');
    // Other payments of the same customer.
    for (const other of [newPayment(), newPayment()]) {
      await gateway.createIntent({
        paymentId: other.paymentId,
        accountId: p.accountId,
        amount: 500,
        currency: 'usd',
        stripeCustomerId,
        stripePaymentMethodId: card.stripePaymentMethodId,
        idempotencyKey: other.keys.create,
      });
    }
    const found = await gateway.findIntentByPaymentId({ paymentId: p.paymentId, stripeCustomerId });
    expect(found).toEqual(intent);
  });

  it('finds the intent on a later page of a customer with many payments', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent, stripeCustomerId, card } = await intentFor(gateway, p, 'pm_card_visa');
    // Lists come newest first, 100 to a page: 100 later payments push the first onto page two.
    for (let i = 0; i < 100; i += 1) {
      const other = newPayment();
      await gateway.createIntent({
        paymentId: other.paymentId,
        accountId: p.accountId,
        amount: 500,
        currency: 'usd',
        stripeCustomerId,
        stripePaymentMethodId: card.stripePaymentMethodId,
        idempotencyKey: other.keys.create,
      });
    }
    const found = await gateway.findIntentByPaymentId({ paymentId: p.paymentId, stripeCustomerId });
    expect(found?.stripePaymentIntentId).toBe(intent.stripePaymentIntentId);
    const pages = h.sandbox.ledger.requests({ account: h.sandbox.accountIdForKey(key), method: 'GET' });
    expect(pages).toHaveLength(2);
  });

  it('answers null when Stripe never created the payment’s intent', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const { stripeCustomerId } = await intentFor(gateway, newPayment(), 'pm_card_visa');
    const found = await gateway.findIntentByPaymentId({
      paymentId: newPayment().paymentId,
      stripeCustomerId,
    });
    expect(found).toBeNull();
  });

  it('skips intents created before `createdAfter`', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent, stripeCustomerId } = await intentFor(gateway, p, 'pm_card_visa');
    const input = { paymentId: p.paymentId, stripeCustomerId };
    expect(await gateway.findIntentByPaymentId({ ...input, createdAfter: intent.created })).toEqual(intent);
    const later = new Date(intent.created.getTime() + 60_000);
    expect(await gateway.findIntentByPaymentId({ ...input, createdAfter: later })).toBeNull();
  });

  it('finds the intent past Stripe’s 24 h key window, where re-sending the create would charge twice', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent, stripeCustomerId, card } = await intentFor(gateway, p, 'pm_card_visa');
    h.sandbox.advance(24 * 3600 + 1);
    expect(await gateway.findIntentByPaymentId({ paymentId: p.paymentId, stripeCustomerId })).toEqual(intent);
    // What the lookup protects against: the same key now makes a second intent.
    const resent = await gateway.createIntent({
      paymentId: p.paymentId,
      accountId: p.accountId,
      amount: 2000,
      currency: 'usd',
      stripeCustomerId,
      stripePaymentMethodId: card.stripePaymentMethodId,
      idempotencyKey: p.keys.create,
    });
    expect(resent.stripePaymentIntentId).not.toBe(intent.stripePaymentIntentId);
    // …and the lookup then refuses to pick one: two intents for one payment break K1.
    const error = await rejectionOf(
      gateway.findIntentByPaymentId({ paymentId: p.paymentId, stripeCustomerId }),
    );
    expect(payErrorFields(error)).toMatchObject({ name: 'InternalError', code: 'internal_error' });
  });
});

describe('retrieving', () => {
  it('maps a succeeded intent with the amount Stripe received', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent } = await intentFor(gateway, p, 'pm_card_visa');
    await gateway.confirmIntent({
      stripePaymentIntentId: intent.stripePaymentIntentId,
      idempotencyKey: p.keys.confirm,
    });
    expect(await gateway.retrieveIntent(intent.stripePaymentIntentId)).toMatchObject({
      status: 'succeeded',
      amount: 2000,
      amountReceived: 2000,
      paymentId: p.paymentId,
      accountId: p.accountId,
    });
  });

  it('refuses an intent id Stripe does not know', async () => {
    const error = await rejectionOf(h.gateway(h.newKey()).retrieveIntent('pi_doesnotexist'));
    expect(payErrorFields(error)).toMatchObject({
      name: 'GatewayRejectedError',
      code: 'invalid_request',
      gatewayCode: 'resource_missing',
    });
  });
});

describe('canceling', () => {
  it('cancels an intent that has not moved money, once per key', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent } = await intentFor(gateway, p, 'pm_card_visa');
    const input = { stripePaymentIntentId: intent.stripePaymentIntentId, idempotencyKey: p.keys.cancel };
    const canceled = await gateway.cancelIntent(input);
    expect(canceled).toMatchObject({ status: 'canceled', amountReceived: 0 });
    expect(await gateway.cancelIntent(input)).toEqual(canceled);
  });

  it('refuses to cancel a succeeded payment as a state conflict', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent } = await intentFor(gateway, p, 'pm_card_visa');
    await gateway.confirmIntent({
      stripePaymentIntentId: intent.stripePaymentIntentId,
      idempotencyKey: p.keys.confirm,
    });
    const error = await rejectionOf(
      gateway.cancelIntent({
        stripePaymentIntentId: intent.stripePaymentIntentId,
        idempotencyKey: p.keys.cancel,
      }),
    );
    expect(payErrorFields(error)).toMatchObject({ name: 'InvalidStateError', code: 'invalid_state' });
    expect((await gateway.retrieveIntent(intent.stripePaymentIntentId)).status).toBe('succeeded');
  });
});
