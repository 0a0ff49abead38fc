import Stripe from 'stripe';
import { confirmWith, harness, newKey, stripeError, type Harness } from './harness.js';

/* Stripe's rate limits, when switched on: 25 requests per second per endpoint, 100 in all, per account. */

let h: Harness;
beforeAll(async () => {
  h = await harness({ rateLimits: true });
});
afterAll(() => h.close());

async function burst(
  calls: (() => Promise<unknown>)[],
): Promise<{ ok: number; limited: Stripe.errors.StripeError[] }> {
  const results = await Promise.allSettled(calls.map((call) => call()));
  const limited: Stripe.errors.StripeError[] = [];
  let ok = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') {
      ok += 1;
    } else {
      limited.push(r.reason as Stripe.errors.StripeError);
    }
  }
  return { ok, limited };
}

it('is off by default', async () => {
  const free = await harness();
  try {
    const stripe = free.stripe();
    const { limited } = await burst(Array.from({ length: 40 }, () => () => stripe.customers.list()));
    expect(limited).toHaveLength(0);
  } finally {
    await free.close();
  }
});

/*
 * Exact counts at Stripe's own limits are proven on a clock the test moves (src/rate-limit.test.ts).
 * Through HTTP, buckets refill while a burst is in flight, so these tests use low limits that a burst
 * overruns however slow the machine is, and assert only what cannot depend on timing.
 */
it('answers past the per-endpoint limit with Stripe 429 rate_limit', async () => {
  const tight = await harness({ rateLimits: { perEndpoint: 3, global: 1000 } });
  try {
    const stripe = tight.stripe(newKey());
    const { ok, limited } = await burst(Array.from({ length: 30 }, () => () => stripe.customers.list()));
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(limited.length).toBeGreaterThan(0);
    for (const error of limited) {
      expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
      expect(error).toMatchObject({
        statusCode: 429,
        code: 'rate_limit',
        message:
          'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
      });
    }
    // Another account has its own budget.
    await expect(tight.stripe(newKey()).customers.list()).resolves.toMatchObject({ object: 'list' });
  } finally {
    await tight.close();
  }
});

it('answers past the limit across endpoints', async () => {
  const tight = await harness({ rateLimits: { perEndpoint: 1000, global: 5 } });
  try {
    const stripe = tight.stripe(newKey());
    const lists = [
      () => stripe.customers.list(),
      () => stripe.paymentIntents.list(),
      () => stripe.charges.list(),
      () => stripe.refunds.list(),
      () => stripe.events.list(),
    ];
    const { ok, limited } = await burst(
      Array.from({ length: 50 }, (_, i) => lists[i % lists.length] as () => Promise<unknown>),
    );
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((e) => e.code === 'rate_limit')).toBe(true);
  } finally {
    await tight.close();
  }
});

it('stores nothing for a limited request and refills over time', async () => {
  const tight = await harness({ rateLimits: { perEndpoint: 2, global: 100 } });
  try {
    const stripe = tight.stripe();
    await stripe.customers.create({}, { idempotencyKey: 'rl-1' });
    await stripe.customers.create({}, { idempotencyKey: 'rl-2' });
    const error = await stripeError(stripe.customers.create({}, { idempotencyKey: 'rl-3' }));
    expect(error.statusCode).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const later = await stripe.customers.create({}, { idempotencyKey: 'rl-3' });
    expect(later.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  } finally {
    await tight.close();
  }
});

it('answers 429 lock_timeout to a request on an object another request holds', async () => {
  const stripe = h.stripe(newKey());
  const held = await stripe.paymentIntents.create({
    amount: 2000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    allowed_payment_method_types: ['card'],
  });
  const other = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd' });
  h.sandbox.faults.add({
    kind: 'delay',
    ms: 600,
    times: 1,
    match: { path: `/v1/payment_intents/${held.id}/confirm` },
  });
  const confirming = stripe.paymentIntents.confirm(held.id);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const error = await stripeError(stripe.paymentIntents.update(held.id, { metadata: { a: 'b' } }));
  expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
  expect(error).toMatchObject({ statusCode: 429, code: 'lock_timeout' });
  await expect(stripe.paymentIntents.update(other.id, { metadata: { a: 'b' } })).resolves.toMatchObject({
    id: other.id,
  });
  expect((await confirming).status).toBe('succeeded');
  await expect(confirmWith(stripe, 'pm_card_visa')).resolves.toMatchObject({ status: 'succeeded' });
});
