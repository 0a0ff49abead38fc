import { RateLimitError } from './errors.js';

/** Requests per second allowed, per account. */
export interface RateLimitSettings {
  /** Per endpoint (method and route), 25 by default. */
  perEndpoint: number;
  /** All endpoints together, 100 by default. */
  global: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { perEndpoint: 25, global: 100 };

const RATE_LIMIT_MESSAGE =
  'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.';

const LOCK_TIMEOUT_MESSAGE =
  'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate.';

/** Stripe's 429 `rate_limit`. The SDK does not retry a 429 unless told to, and Stripe does not tell it. */
export function rateLimitError(): RateLimitError {
  return new RateLimitError(RATE_LIMIT_MESSAGE, { code: 'rate_limit' });
}

/** Stripe's 429 `lock_timeout`: another request holds the object. Stripe asks clients to retry it. */
export function lockTimeoutError(): RateLimitError {
  return new RateLimitError(LOCK_TIMEOUT_MESSAGE, { code: 'lock_timeout', shouldRetry: true });
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per account and per account+endpoint, refilled continuously at the configured rate with a
 * burst of one second's worth. They run on the wall clock even when the sandbox clock is virtual: rate is
 * about how fast requests really arrive, and a virtual clock does not move during a load test.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Throws Stripe's 429 when either bucket is empty; takes a token from both otherwise. */
  check(account: string, endpoint: string): void {
    const t = this.now();
    const global = this.refill(account, this.settings.global, t);
    const local = this.refill(`${account} ${endpoint}`, this.settings.perEndpoint, t);
    if (global.tokens < 1 || local.tokens < 1) {
      throw rateLimitError();
    }
    global.tokens -= 1;
    local.tokens -= 1;
  }

  reset(): void {
    this.buckets.clear();
  }

  private refill(key: string, rate: number, t: number): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: rate, at: t };
      this.buckets.set(key, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(rate, bucket.tokens + ((t - bucket.at) / 1000) * rate);
    bucket.at = t;
    return bucket;
  }
}
