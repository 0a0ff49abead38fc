import { ConfigurationError, DependencyUnavailableError, isPayError, RateLimitedError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { RateLimitCounts } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';

/** What the buckets of the per-API-key limit start with (`api_key:key_…`). */
export const API_KEY_BUCKET_PREFIX = 'api_key:';

/** The length of the rate limiter's fixed windows, and of the sliding minute it estimates. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** How often one limiter sweeps old windows out of the store, at most. */
export const RATE_LIMIT_SWEEP_INTERVAL_MS = 60_000;

/**
 * What a client is told to wait when the limiter's store fails: the request was neither counted nor
 * served, so it is safe to send again, and a short pause spares a database that is struggling.
 */
export const RATE_LIMIT_STORE_RETRY_AFTER_SECONDS = 2;

/**
 * Windows that started this long before the current one are swept. The previous window is still weighed;
 * the one before it is kept as well, for another process whose clock lags a little behind this one's.
 */
const SWEEP_AGE_WINDOWS = 2;

/** A request the limiter let through, with what the `RateLimit-*` headers advertise. */
export interface RateLimitAllowed {
  /** The discriminant: the request may go on. */
  readonly allowed: true;
  /** Requests per minute allowed for the bucket. */
  readonly limit: number;
  /** Requests left in the sliding minute, rounded down. */
  readonly remaining: number;
  /** Seconds until every request counted so far has left the sliding minute (the quota is whole again). */
  readonly resetSeconds: number;
}

/** A request the limiter refused. */
export interface RateLimitRefused {
  /** The discriminant: answer 429 with {@link rateLimitedError}. */
  readonly allowed: false;
  /** Requests per minute allowed for the bucket, as in {@link RateLimitAllowed.limit}. */
  readonly limit: number;
  /** Always 0 on a refusal. */
  readonly remaining: 0;
  /** As in {@link RateLimitAllowed.resetSeconds}. */
  readonly resetSeconds: number;
  /** Whole seconds after which one request would be allowed, if the bucket sees none meanwhile. */
  readonly retryAfterSeconds: number;
}

/** The outcome of {@link RateLimiter.check}. */
export type RateLimitDecision = RateLimitAllowed | RateLimitRefused;

/** What {@link RateLimiter} is built from; `createPay` wires it from `PAY_RATE_LIMIT`. */
export interface RateLimiterDeps {
  /** Where the window counts live, shared by every process, so the limit holds across a cluster. */
  readonly store: Store;
  /** The time fixed windows are cut from and the sliding minute is weighed at. */
  readonly clock: Clock;
  /** Requests per window per bucket: a positive integer (`PAY_RATE_LIMIT`, per minute). */
  readonly limit: number;
  /** The length of the fixed windows (the sliding window it estimates); one minute by default. */
  readonly windowMs?: number;
  /**
   * What every bucket this limiter counts starts with (`api_key:`): its sweep deletes only those, so
   * limiters with other windows can share the table.
   */
  readonly bucketPrefix: string;
  /** Where sweep failures go: they never fail a request, so they must not go unseen either. */
  readonly logger: Logger;
}

/** The 429 for a refused request; `context.retryAfterSeconds` becomes the `Retry-After` header. */
export function rateLimitedError(decision: RateLimitRefused): RateLimitedError {
  const seconds = decision.retryAfterSeconds;
  return new RateLimitedError(
    `Too many requests: the limit is ${decision.limit} per minute. Retry after ${seconds} second${seconds === 1 ? '' : 's'}.`,
    { context: { limit: decision.limit, retryAfterSeconds: seconds } },
  );
}

const ceilDiv = (numerator: number, denominator: number): number => Math.ceil(numerator / denominator);

/**
 * A rate limiter over counters in the store, so every process sharing the store shares the limit
 * (DESIGN.md §8). It approximates a sliding minute with two fixed one-minute windows, as Cloudflare
 * does: the hits of the current window plus the previous window's hits weighted by the share of that
 * window still inside the last 60 s, which assumes the previous window's hits were spread evenly. Each
 * request costs one statement: the upsert that counts it also reads the previous window.
 *
 * Refused requests are counted too (the counters record what arrived, as Cloudflare's do): a client
 * that keeps calling while refused stays refused, and one that waits `Retry-After` gets through.
 *
 * What it guarantees (the unit tests check each as a property): every fixed minute allows at most
 * `limit`; steady traffic, at any rate, allows at most `limit` in any 60 s once it has run for a whole
 * window. The estimate is an estimate, though: traffic that starts part-way through a window, or a burst
 * at the end of one window followed by another at the end of the next, can get more through in some
 * 60 s, up to (never reaching) twice the limit, as a token bucket of the same size would allow.
 */
export class RateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private lastSweepAt: number | undefined;

  constructor(private readonly deps: RateLimiterDeps) {
    if (!Number.isSafeInteger(deps.limit) || deps.limit < 1) {
      throw new ConfigurationError(
        `The rate limit must be a positive integer of requests per minute, got ${deps.limit}.`,
      );
    }
    this.limit = deps.limit;
    this.windowMs = deps.windowMs ?? RATE_LIMIT_WINDOW_MS;
    if (!Number.isSafeInteger(this.windowMs) || this.windowMs < 1_000) {
      throw new ConfigurationError(
        `A rate limit's window must be a whole second or more, got ${this.windowMs} ms.`,
      );
    }
  }

  /**
   * Counts one request in `bucket` (such as `api_key:key_…`) and says whether it is allowed. Throws a
   * {@link DependencyUnavailableError} (retryable, 503) when the store cannot count it: an uncounted
   * request is neither silently allowed nor turned into a 500.
   */
  async check(bucket: string): Promise<RateLimitDecision> {
    const now = this.deps.clock.now().getTime();
    const windowStart = now - (now % this.windowMs);
    const counts = await this.counting(bucket, () =>
      this.deps.store.repos.rateLimits.hit(
        bucket,
        new Date(windowStart),
        new Date(windowStart - this.windowMs),
      ),
    );
    this.sweepNowAndThen(now);
    return decide(this.limit, counts, now - windowStart, this.windowMs);
  }

  /**
   * Says whether one more hit in `bucket` would be allowed, without counting one: for limits on what a
   * request turned out to be (a declined payment), checked before it and counted after.
   */
  async peek(bucket: string): Promise<RateLimitDecision> {
    const now = this.deps.clock.now().getTime();
    const windowStart = now - (now % this.windowMs);
    const counts = await this.counting(bucket, () =>
      this.deps.store.repos.rateLimits.read(
        bucket,
        new Date(windowStart),
        new Date(windowStart - this.windowMs),
      ),
    );
    return decide(
      this.limit,
      { current: counts.current + 1, previous: counts.previous },
      now - windowStart,
      this.windowMs,
    );
  }

  private async counting(bucket: string, read: () => Promise<RateLimitCounts>): Promise<RateLimitCounts> {
    try {
      return await read();
    } catch (error) {
      if (isPayError(error)) {
        throw error;
      }
      throw new DependencyUnavailableError('The rate limiter could not count this request; retry shortly.', {
        cause: error,
        context: { bucket, retryAfterSeconds: RATE_LIMIT_STORE_RETRY_AFTER_SECONDS },
      });
    }
  }

  /**
   * Deletes windows too old to be weighed again, and returns how many. Called by {@link RateLimiter.check}
   * now and then.
   */
  sweep(): Promise<number> {
    const now = this.deps.clock.now().getTime();
    return this.deps.store.repos.rateLimits.deleteWindowsBefore(
      new Date(now - (now % this.windowMs) - SWEEP_AGE_WINDOWS * this.windowMs),
      this.deps.bucketPrefix,
    );
  }

  private sweepNowAndThen(now: number): void {
    const last = this.lastSweepAt;
    // A clock that moved backwards (now < last) sweeps too, rather than waiting for time to catch up.
    if (
      last !== undefined &&
      now >= last &&
      now - last < Math.min(RATE_LIMIT_SWEEP_INTERVAL_MS, this.windowMs)
    ) {
      return;
    }
    this.lastSweepAt = now;
    const { logger } = this.deps;
    // Not awaited: the request does not wait for housekeeping, and a failed sweep is logged, never
    // thrown; the next one deletes what this one left.
    void Promise.resolve()
      .then(() => this.sweep())
      .then(
        (deleted) => logger.debug('rate-limit windows swept', { deleted }),
        (error: unknown) => logger.warn('sweeping old rate-limit windows failed', { error }),
      );
  }
}

/**
 * The decision for counts read `elapsed` ms into the current window. Everything is scaled by the
 * window length so the arithmetic stays in integers: the estimate is
 * `(previous × (W − elapsed) + current × W) / W`.
 */
function decide(limit: number, counts: RateLimitCounts, elapsed: number, W: number): RateLimitDecision {
  const { current, previous } = counts;
  const untilWindowEnd = W - elapsed;
  const scaled = previous * untilWindowEnd + current * W;
  // The current window's hits leave the sliding minute one window after it ends.
  const resetSeconds = ceilDiv(current > 0 ? untilWindowEnd + W : untilWindowEnd, 1000);
  if (scaled <= limit * W) {
    return { allowed: true, limit, remaining: Math.floor((limit * W - scaled) / W), resetSeconds };
  }
  // When would one more request fit, if none arrives meanwhile? Still in this window once the previous
  // window's weight has decayed enough; otherwise in the next one, where this window's hits decay.
  const wait =
    current < limit
      ? untilWindowEnd - Math.floor(((limit - current - 1) * W) / previous)
      : untilWindowEnd + ceilDiv((current - limit + 1) * W, current);
  return {
    allowed: false,
    limit,
    remaining: 0,
    resetSeconds,
    retryAfterSeconds: Math.max(1, ceilDiv(wait, 1000)),
  };
}
