import { DEFAULT_RATE_LIMITS, RateLimiter } from './rate-limit.js';

/** A limiter on a clock the test moves, so counts are exact whatever the machine's load. */
function limiterAt(start = 0): { limiter: RateLimiter; advance(ms: number): void } {
  let t = start;
  return { limiter: new RateLimiter(DEFAULT_RATE_LIMITS, () => t), advance: (ms) => (t += ms) };
}

function allowed(limiter: RateLimiter, account: string, endpoints: readonly string[], count: number): number {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    try {
      limiter.check(account, endpoints[i % endpoints.length] ?? 'GET /v1/customers');
      ok += 1;
    } catch (err) {
      expect(err).toMatchObject({ status: 429, fields: { code: 'rate_limit' } });
    }
  }
  return ok;
}

describe("Stripe's rate limits", () => {
  it('allow 25 requests per second on one endpoint, then answer rate_limit', () => {
    const { limiter } = limiterAt();
    expect(allowed(limiter, 'acct_a', ['GET /v1/customers'], 40)).toBe(25);
  });

  it('allow 100 requests per second across endpoints', () => {
    const { limiter } = limiterAt();
    const endpoints = [
      'GET /v1/customers',
      'GET /v1/charges',
      'GET /v1/refunds',
      'GET /v1/events',
      'GET /v1/payment_intents',
    ];
    expect(allowed(limiter, 'acct_a', endpoints, 150)).toBe(100);
  });

  it('give every account its own budget', () => {
    const { limiter } = limiterAt();
    expect(allowed(limiter, 'acct_a', ['GET /v1/customers'], 30)).toBe(25);
    expect(allowed(limiter, 'acct_b', ['GET /v1/customers'], 30)).toBe(25);
  });

  it('refill continuously: half a second later, half the per-endpoint budget is back', () => {
    const { limiter, advance } = limiterAt();
    expect(allowed(limiter, 'acct_a', ['GET /v1/customers'], 25)).toBe(25);
    advance(500);
    expect(allowed(limiter, 'acct_a', ['GET /v1/customers'], 25)).toBe(12);
    advance(10_000);
    expect(allowed(limiter, 'acct_a', ['GET /v1/customers'], 40)).toBe(25);
  });

  it('forget every bucket on reset', () => {
    const { limiter } = limiterAt();
    allowed(limiter, 'acct_a', ['GET /v1/customers'], 25);
    limiter.reset();
    expect(allowed(limiter, 'acct_a', ['GET /v1/customers'], 1)).toBe(1);
  });
});
