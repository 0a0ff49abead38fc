import { GatewayRateLimitedError, newId } from '@pay/core';
import { startHarness, type Harness } from '../test/harness.js';
import { StripeRequestShedError } from './outbound-rate-limit.js';

/*
 * The limiter inside the gateway, against the sandbox with Stripe's limits switched on (3 requests per
 * second per endpoint, 6 in all). No assertion here is about time: only about what reached Stripe and
 * what the caller got back.
 */

const LIMITS = { perEndpoint: 3, global: 6 };

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ rateLimits: LIMITS });
});

afterAll(async () => {
  await harness?.close();
});

function customerInput() {
  const customerId = newId('customer');
  return {
    accountId: newId('account'),
    customerId,
    email: null,
    idempotencyKey: `pay:${customerId}:customer`,
  };
}

describe('the Stripe gateway with pay’s rate limit', () => {
  it('sends a call it refuses nowhere: Stripe creates nothing, the caller gets a retryable error', async () => {
    const key = harness.newKey();
    const gateway = harness.gateway(key, {
      rateLimit: { perSecond: LIMITS.global, perEndpointPerSecond: LIMITS.perEndpoint, maxWaitMs: 0 },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => gateway.createCustomer(customerInput())),
    );
    const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(LIMITS.perEndpoint);
    expect(refused).toHaveLength(5 - LIMITS.perEndpoint);
    for (const error of refused) {
      expect(error).toBeInstanceOf(StripeRequestShedError);
      expect(error).toMatchObject({ code: 'dependency_unavailable', retryable: true });
    }
    expect(harness.count(key, 'customer')).toBe(LIMITS.perEndpoint);
  });

  it('queues calls past the burst instead of letting Stripe answer 429', async () => {
    const key = harness.newKey();
    // A little under Stripe's limit, as pay's defaults are: a request reaches Stripe a network transit
    // after it leaves, and the first on a new connection later than the next, so two sent exactly one
    // interval apart can arrive closer than that and meet an empty bucket.
    const gateway = harness.gateway(key, {
      rateLimit: { perSecond: 4, perEndpointPerSecond: 2, maxWaitMs: 5_000 },
    });
    // Three times the client's endpoint burst: the last four wait for their tokens, and all are created.
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => gateway.createCustomer(customerInput())),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(harness.count(key, 'customer')).toBe(6);
  });

  it('turns Stripe’s own 429 rate_limit (no client limit) into a retryable GatewayRateLimitedError', async () => {
    const key = harness.newKey();
    const gateway = harness.gateway(key);
    const results = await Promise.allSettled(
      Array.from({ length: LIMITS.perEndpoint + 1 }, () => gateway.createCustomer(customerInput())),
    );
    const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(GatewayRateLimitedError);
    expect(refused[0]).not.toBeInstanceOf(StripeRequestShedError);
    expect(refused[0]).toMatchObject({
      code: 'dependency_unavailable',
      retryable: true,
      ambiguous: false,
      context: { httpStatus: 429, stripeCode: 'rate_limit', retryAfterSeconds: 1 },
    });
  });
});
