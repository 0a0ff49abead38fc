import { API_KEY_BUCKET_PREFIX, rateLimitedError, type RateLimiter } from '@pay/core';
import type { RequestHandler } from 'express';
import type { HttpMetrics } from '../metrics.js';

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  readonly limiter: RateLimiter;
  readonly metrics: HttpMetrics;
}

/** The bucket an API key's requests are counted in: per key, so one key's flood leaves others alone. */
export function apiKeyBucket(apiKeyId: string): string {
  return `${API_KEY_BUCKET_PREFIX}${apiKeyId}`;
}

/**
 * Limits each API key to `PAY_RATE_LIMIT` requests per minute. Mount it right after `authenticate()`:
 * it counts only requests that carry an accepted key (the routes exempt from keys have nothing to count
 * by, and a refused key never gets this far).
 *
 * Every counted answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (the IETF
 * httpapi draft's names; seconds). A request over the limit gets a 429 `rate_limited` with
 * `Retry-After`, counted in `api_rate_limited_total`. When the counters cannot be reached, the request
 * gets a retryable 503 `dependency_unavailable` with a short `Retry-After` rather than going through
 * uncounted: an outage of the database must not switch the limit off, and the rest of the request needs
 * that database anyway.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  return async (_req, res, next) => {
    const caller = res.locals.auth;
    if (caller === undefined) {
      next();
      return;
    }
    const decision = await options.limiter.check(apiKeyBucket(caller.apiKey.id));
    res.setHeader('RateLimit-Limit', String(decision.limit));
    res.setHeader('RateLimit-Remaining', String(decision.remaining));
    res.setHeader('RateLimit-Reset', String(decision.resetSeconds));
    if (!decision.allowed) {
      options.metrics.rateLimited.inc();
      throw rateLimitedError(decision);
    }
    next();
  };
}
