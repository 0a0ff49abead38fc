import Stripe from 'stripe';
import { confirmWith, harness, newKey, stripeError, type Harness } from './harness.js';

/* SANDBOX.md §6.4: every API fault, through the real SDK. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());
afterEach(() => h.sandbox.faults.clear());

function account(key: string): string {
  return h.sandbox.accountIdForKey(key);
}

describe('error_before', () => {
  it('answers 500 before execution and stores nothing', async () => {
    const key = newKey();
    const stripe = h.stripe(key);
    h.sandbox.faults.add({
      kind: 'error_before',
      status: 500,
      times: 1,
      match: { method: 'POST', path: '/v1/payment_intents' },
    });
    const error = await stripeError(confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'eb-1' }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(error).toMatchObject({ statusCode: 500, raw: { type: 'api_error' } });
    expect(h.sandbox.ledger.count('payment_intent', account(key))).toBe(0);
    const retried = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'eb-1' });
    expect(retried.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(h.sandbox.ledger.count('payment_intent', account(key))).toBe(1);
  });

  it('lets the SDK retry a 503 with the same key', async () => {
    const key = newKey();
    h.sandbox.faults.add({ kind: 'error_before', status: 503, times: 1 });
    const pi = await confirmWith(h.stripe(key, { maxNetworkRetries: 1 }), 'pm_card_visa');
    expect(pi.status).toBe('succeeded');
    const log = h.sandbox.requests({ account: account(key) });
    expect(log.map((r) => r.status)).toEqual([503, 200]);
    expect(log[0]?.idempotencyKey).toBe(log[1]?.idempotencyKey);
    expect(log[0]?.faults).toEqual(['error_before']);
  });

  it('answers 429 rate_limit or lock_timeout', async () => {
    h.sandbox.faults.add({ kind: 'error_before', status: 429, times: 1 });
    const limited = await stripeError(h.stripe().customers.list());
    expect(limited).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(limited).toMatchObject({ statusCode: 429, code: 'rate_limit' });
    h.sandbox.faults.add({ kind: 'error_before', status: 429, code: 'lock_timeout', times: 1 });
    const locked = await stripeError(h.stripe().customers.list());
    expect(locked).toMatchObject({ statusCode: 429, code: 'lock_timeout' });
    expect(locked.headers?.['stripe-should-retry']).toBe('true');
  });
});

describe('error_after', () => {
  it('executes, stores and answers a 500 that the key replays; the SDK does not retry it', async () => {
    const key = newKey();
    h.sandbox.faults.add({ kind: 'error_after', times: 1, match: { idempotencyKey: 'ea-1' } });
    const stripe = h.stripe(key, { maxNetworkRetries: 2 });
    const error = await stripeError(confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'ea-1' }));
    expect(error).toMatchObject({ statusCode: 500, type: 'StripeAPIError' });
    expect(error.headers?.['stripe-should-retry']).toBe('false');
    expect(h.sandbox.ledger.count('payment_intent', account(key))).toBe(1);
    expect(h.sandbox.requests({ account: account(key) })).toHaveLength(1);
    const replay = await stripeError(confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'ea-1' }));
    expect(replay.statusCode).toBe(500);
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    expect(h.sandbox.ledger.count('payment_intent', account(key))).toBe(1);
    // The state changed all the same: the intent exists and succeeded.
    expect((await stripe.paymentIntents.list()).data[0]?.status).toBe('succeeded');
  });
});

describe('drop_after_commit', () => {
  it('commits, then drops the connection; the SDK retries with the same key and gets the replay', async () => {
    const key = newKey();
    h.sandbox.faults.add({ kind: 'drop_after_commit', times: 1, match: { path: '/v1/payment_intents' } });
    const pi = await confirmWith(h.stripe(key, { maxNetworkRetries: 1 }), 'pm_card_visa');
    expect(pi.status).toBe('succeeded');
    expect(pi.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(h.sandbox.ledger.count('payment_intent', account(key))).toBe(1);
    expect(h.sandbox.ledger.count('charge', account(key))).toBe(1);
    const log = h.sandbox.requests({ account: account(key) });
    expect(log.map((r) => [r.faults, r.replayed])).toEqual([
      [['drop_after_commit'], false],
      [[], true],
    ]);
  });

  it('is retried even with maxNetworkRetries 0 (stripe-node retries a closed connection once)', async () => {
    const key = newKey();
    h.sandbox.faults.add({ kind: 'drop_after_commit', times: 1 });
    const customer = await h.stripe(key).customers.create({ email: 'once@example.com' });
    expect(customer.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(h.sandbox.ledger.count('customer', account(key))).toBe(1);
  });
});

describe('holds', () => {
  it('delays a request by ms', async () => {
    const key = newKey();
    h.sandbox.faults.add({ kind: 'delay', ms: 120, times: 1 });
    await h.stripe(key).customers.list();
    expect(h.sandbox.requests({ account: account(key) })[0]?.durationMs).toBeGreaterThanOrEqual(115);
  });

  it('adds a start-up latency to every request, which resets and clears keep', async () => {
    const slow = await harness({ latency: { type: 'lognormal', median_ms: 30, sigma: 0.2, seed: 42 } });
    try {
      await slow.stripe().customers.list();
      slow.sandbox.reset();
      slow.sandbox.faults.clear();
      expect((await slow.control('DELETE', 'faults')).status).toBe(200);
      await slow.stripe().customers.list();
      const durations = slow.sandbox.requests().map((r) => r.durationMs);
      expect(durations).toHaveLength(1);
      expect(durations[0]).toBeGreaterThanOrEqual(15);
      expect(slow.sandbox.faults.list()).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });
});

describe('idempotency_expire', () => {
  it('prunes a key now, so the same key executes anew', async () => {
    const stripe = h.stripe(newKey());
    const first = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'expire-me' });
    const res = await h.control('POST', 'faults', {
      kind: 'idempotency_expire',
      match: { idempotencyKey: 'expire-me' },
    });
    expect(res.json.data).toEqual([{ kind: 'idempotency_expire', pruned: 1 }]);
    const second = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'expire-me' });
    expect(second.id).not.toBe(first.id);
  });
});

describe('matching and the HTTP control plane', () => {
  it('matches method and path globs, counts times, lists and clears', async () => {
    const stripe = h.stripe(newKey());
    const add = await h.control('POST', 'faults', {
      kind: 'error_before',
      status: 500,
      times: 2,
      match: { method: 'post', path: '/v1/payment_intents/*/confirm' },
    });
    expect(add.status).toBe(200);
    expect((await h.control('GET', 'faults')).json.data).toEqual([
      expect.objectContaining({ remaining: 2, fault: expect.objectContaining({ kind: 'error_before' }) }),
    ]);
    const pi = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      allowed_payment_method_types: ['card'],
    });
    expect((await stripeError(stripe.paymentIntents.confirm(pi.id))).statusCode).toBe(500);
    expect((await stripeError(stripe.paymentIntents.confirm(pi.id))).statusCode).toBe(500);
    expect((await stripe.paymentIntents.confirm(pi.id)).status).toBe('succeeded');

    await h.control('POST', 'faults', { kind: 'error_before', status: 500 });
    expect((await stripeError(stripe.customers.list())).statusCode).toBe(500);
    expect((await h.control('DELETE', 'faults')).status).toBe(200);
    expect((await stripe.customers.list()).object).toBe('list');
  });

  it('hands webhook faults to the hub and refuses bad faults', async () => {
    const ok = await h.control('POST', 'faults', { kind: 'webhook_duplicate', count: 1, times: 1 });
    expect(ok.json.data).toEqual([{ kind: 'webhook_duplicate', webhook: true }]);
    expect((await h.control('POST', 'faults', { kind: 'webhook_duplicate', count: 0 })).status).toBe(400);
    expect((await h.control('POST', 'faults', { kind: 'meteor_strike' })).status).toBe(400);
    expect((await h.control('POST', 'faults', { kind: 'error_before', status: 404 })).status).toBe(400);
    expect((await h.control('POST', 'faults', { kind: 'latency' })).status).toBe(400);
    expect(
      (
        await h.control('POST', 'faults', {
          kind: 'latency',
          distribution: { type: 'lognormal', median_ms: -1 },
        })
      ).status,
    ).toBe(400);
  });
});
