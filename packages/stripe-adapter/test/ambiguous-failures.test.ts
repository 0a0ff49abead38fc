import type { PaymentGateway } from '@pay/core';
import {
  customerWithCard,
  dropThenFailResend,
  newPayment,
  payErrorFields,
  rejectionOf,
  startHarness,
  waitFor,
  type Harness,
  type PaymentFixture,
} from './harness.js';

/*
 * RELIABILITY.md B1–B4 at the adapter: a call that ends without an answer is a retryable, ambiguous
 * error (the payment stays pending), and a retry with pay's same key never makes a second intent.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
afterEach(() => h.sandbox.faults.clear());

const AMBIGUOUS = {
  name: 'GatewayUnavailableError',
  code: 'dependency_unavailable',
  retryable: true,
  ambiguous: true,
};

/** A payment ready for its intent: customer and card made, the create call not sent yet. */
async function readyPayment(gateway: PaymentGateway) {
  const p = newPayment();
  const { stripeCustomerId, card } = await customerWithCard(gateway, p, 'pm_card_visa');
  const create = () =>
    gateway.createIntent({
      paymentId: p.paymentId,
      accountId: p.accountId,
      amount: 2000,
      currency: 'usd',
      stripeCustomerId,
      stripePaymentMethodId: card.stripePaymentMethodId,
      idempotencyKey: p.keys.create,
    });
  return { p, stripeCustomerId, create };
}

function createFault(p: PaymentFixture) {
  return { method: 'POST', path: '/v1/payment_intents', idempotencyKey: p.keys.create };
}

describe('a create that ends without an answer', () => {
  it('is ambiguous after a 500; the retry with the same key creates the one intent', async () => {
    const key = h.newKey();
    const { p, create } = await readyPayment(h.gateway(key));
    h.sandbox.faults.add({ kind: 'error_before', status: 500, times: 1, match: createFault(p) });
    expect(payErrorFields(await rejectionOf(create()))).toEqual(AMBIGUOUS);
    const intent = await create();
    expect(intent.status).toBe('pending');
    expect(h.count(key, 'payment_intent')).toBe(1);
  });

  it('is healed by the SDK’s own re-send when Stripe committed and one connection dropped', async () => {
    const key = h.newKey();
    const { p, create } = await readyPayment(h.gateway(key));
    h.sandbox.faults.add({ kind: 'drop_after_commit', times: 1, match: createFault(p) });
    const intent = await create();
    const log = h.sandbox.ledger.requests({ idempotencyKey: p.keys.create });
    // The re-send carried pay's key, so Stripe replayed its answer instead of creating a second intent.
    expect(log.map((r) => [r.faults, r.replayed])).toEqual([
      [['drop_after_commit'], false],
      [[], true],
    ]);
    expect(intent.status).toBe('pending');
    expect(h.count(key, 'payment_intent')).toBe(1);
  });

  it('is ambiguous when Stripe committed, the connection dropped and the re-send failed; the retry gets that intent', async () => {
    const key = h.newKey();
    const { p, stripeCustomerId, create } = await readyPayment(h.gateway(key));
    const error = await dropThenFailResend(h.sandbox, createFault(p), create);
    expect(payErrorFields(error)).toEqual(AMBIGUOUS);
    expect(h.count(key, 'payment_intent')).toBe(1);

    const intent = await create();
    expect(h.count(key, 'payment_intent')).toBe(1);
    const [only] = (await h.stripe(key).paymentIntents.list({ customer: stripeCustomerId })).data;
    expect(intent.stripePaymentIntentId).toBe(only?.id);
  });

  it('is ambiguous when Stripe answers after the adapter’s timeout; a retry meanwhile is too; then one intent', async () => {
    const key = h.newKey();
    const { p, create } = await readyPayment(h.gateway(key, { timeoutMs: 300 }));
    h.sandbox.faults.add({ kind: 'delay', ms: 1_200, times: 1, match: createFault(p) });
    const started = Date.now();
    expect(payErrorFields(await rejectionOf(create()))).toEqual(AMBIGUOUS);
    expect(Date.now() - started).toBeLessThan(1_000);

    // Stripe is still running the first request under this key: 409, which is no answer either.
    const inFlight = await rejectionOf(create());
    expect(payErrorFields(inFlight)).toEqual(AMBIGUOUS);
    expect((inFlight as { context: Record<string, unknown> }).context).toMatchObject({ httpStatus: 409 });

    await waitFor(() => h.count(key, 'payment_intent') === 1);
    const intent = await create();
    expect(intent.status).toBe('pending');
    expect(h.count(key, 'payment_intent')).toBe(1);
  });

  it('keeps answering 500 when Stripe stored its 500 under the key; the lookup by payment id finds the intent', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const { p, stripeCustomerId, create } = await readyPayment(gateway);
    h.sandbox.faults.add({ kind: 'error_after', times: 1, match: createFault(p) });
    expect(payErrorFields(await rejectionOf(create()))).toEqual(AMBIGUOUS);
    expect(payErrorFields(await rejectionOf(create()))).toEqual(AMBIGUOUS);
    const found = await gateway.findIntentByPaymentId({ paymentId: p.paymentId, stripeCustomerId });
    expect(found).toMatchObject({ paymentId: p.paymentId, status: 'pending' });
    expect(h.count(key, 'payment_intent')).toBe(1);
  });

  it('is retried by the SDK itself when network retries are configured', async () => {
    const key = h.newKey();
    const { p, create } = await readyPayment(h.gateway(key, { maxNetworkRetries: 2 }));
    h.sandbox.faults.add({ kind: 'error_before', status: 503, times: 1, match: createFault(p) });
    expect((await create()).status).toBe('pending');
    const statuses = h.sandbox.ledger
      .requests({ account: h.sandbox.accountIdForKey(key), idempotencyKey: p.keys.create })
      .map((r) => r.status);
    expect(statuses).toEqual([503, 200]);
  });
});

describe('a confirmation that ends without an answer', () => {
  it('is ambiguous after a dropped connection; the retry with the same key returns the one charge', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const { p, create } = await readyPayment(gateway);
    const intent = await create();
    const confirm = () =>
      gateway.confirmIntent({
        stripePaymentIntentId: intent.stripePaymentIntentId,
        idempotencyKey: p.keys.confirm,
      });
    const error = await dropThenFailResend(
      h.sandbox,
      { method: 'POST', idempotencyKey: p.keys.confirm },
      confirm,
    );
    expect(payErrorFields(error)).toEqual(AMBIGUOUS);
    expect(h.count(key, 'charge')).toBe(1);
    expect((await confirm()).kind).toBe('succeeded');
    expect(h.count(key, 'charge')).toBe(1);
  });
});

describe('Stripe’s rate limit', () => {
  it('is a retryable error that did nothing, with a Retry-After for the client', async () => {
    const key = h.newKey();
    const { p, create } = await readyPayment(h.gateway(key));
    h.sandbox.faults.add({ kind: 'error_before', status: 429, times: 1, match: createFault(p) });
    const error = await rejectionOf(create());
    expect(payErrorFields(error)).toEqual({
      name: 'GatewayRateLimitedError',
      code: 'dependency_unavailable',
      retryable: true,
      ambiguous: false,
    });
    expect((error as { context: Record<string, unknown> }).context).toMatchObject({
      httpStatus: 429,
      retryAfterSeconds: expect.any(Number),
    });
    expect(h.count(key, 'payment_intent')).toBe(0);
    await create();
    expect(h.count(key, 'payment_intent')).toBe(1);
  });
});

describe('a bad secret key', () => {
  it('is a configuration error, not the user’s', async () => {
    const strict = await startHarness({ apiKeys: ['sk_test_the_only_key'] });
    try {
      const error = await rejectionOf(
        strict.gateway('sk_test_someone_else').createCustomer({ ...ids(), idempotencyKey: 'pay:cfg' }),
      );
      expect(payErrorFields(error)).toMatchObject({ name: 'ConfigurationError', retryable: false });
    } finally {
      await strict.close();
    }
  });
});

function ids() {
  const { accountId, customerId } = newPayment();
  return { accountId, customerId };
}
