import type { IdempotencyKey } from '../domain/entities.js';
import type { AccountId, IdempotencyKeyId } from '../ids.js';

/*
 * What guards API requests rather than recording money: pay's idempotency keys (DESIGN.md §4) and the
 * rate limiter's counters (DESIGN.md §8).
 */

/**
 * A client's idempotency key as the first request with it stores it: locked by that request, at `started`.
 */
export interface NewIdempotencyKey {
  /** The key's account: keys are scoped per account. */
  accountId: AccountId;
  /** The client's `Idempotency-Key` header, as sent. */
  key: string;
  /** The HTTP method of the first request (`POST`). */
  requestMethod: string;
  /** The route of the first request (`/api/v1/payments`); the key on another path is a reuse. */
  requestPath: string;
  /**
   * SHA-256 (hex) of method, path and canonical parameters: a later request with another hash is a reuse
   * (422).
   */
  paramsHash: string;
  /** What the flow needs to resume without its client (JSON); each flow stores its own versioned shape. */
  requestParams?: unknown;
  /** Stamped as the key's `createdAt`, `lockedAt` and `lastRunAt`. */
  now: Date;
}

/** Fields a flow moves on its key as it goes; absent fields are left as they are. */
export interface IdempotencyKeyPatch {
  /** The phase just committed; the flow's own names, ending at `finished`. */
  recoveryPoint?: string;
  /** Null releases the key for a retry or recovery; a date takes it. */
  lockedAt?: Date | null;
  /** The HTTP status to replay, stored with `responseBody` when the flow finishes. */
  responseStatus?: number | null;
  /** The result to replay (JSON, encoded by the flow's codec), byte for byte on every retry. */
  responseBody?: unknown;
  /** The object the request made (`pay_…`, `rfnd_…`), once its row is committed. */
  resourceId?: string | null;
  /** When a request last ran the flow under this key. */
  lastRunAt?: Date;
}

/**
 * pay's idempotency keys (DESIGN.md §4): one row per (account, key), with its lock, recovery point and stored
 * response.
 */
export interface IdempotencyKeyRepository {
  /** Inserts the key locked (`recoveryPoint: 'started'`), or returns the row already there. */
  insert(input: NewIdempotencyKey): Promise<{ key: IdempotencyKey; inserted: boolean }>;
  /** The account's key with this `Idempotency-Key` string; null when never used (or reaped after 24 h). */
  find(accountId: AccountId, key: string): Promise<IdempotencyKey | null>;
  /**
   * Takes the lock when it is free or older than `staleBefore` and no response is stored yet.
   * Returns null when another request holds it.
   */
  lock(id: IdempotencyKeyId, now: Date, staleBefore: Date): Promise<IdempotencyKey | null>;
  /** Applies the patch and returns the row; a flow calls it in the transaction of the phase it records. */
  update(id: IdempotencyKeyId, patch: IdempotencyKeyPatch): Promise<IdempotencyKey>;
  /** Deletes keys created before `cutoff` (Stripe keeps them 24 h); returns how many. */
  deleteCreatedBefore(cutoff: Date): Promise<number>;
  /**
   * Keys of every account a recovery job may resume: no response stored, created at or after
   * `createdAfter`, and free or locked before `staleBefore`; only those whose `resourceId` starts with
   * `resourceIdPrefix` when given. By id ascending after `afterId`.
   */
  listResumable(query: {
    createdAfter: Date;
    staleBefore: Date;
    resourceIdPrefix?: string | undefined;
    afterId?: IdempotencyKeyId | undefined;
    limit: number;
  }): Promise<IdempotencyKey[]>;
}

/** The two counts the rate limiter weighs for one request, read by {@link RateLimitRepository.hit}. */
export interface RateLimitCounts {
  /** Hits in the current window so far, this one included (so at least 1 from `hit`). */
  readonly current: number;
  /** Hits in the previous window; 0 when it has none (or was swept). */
  readonly previous: number;
}

/**
 * Request counters of the rate limiter, one per (bucket, fixed window), shared by every process that
 * uses the store (DESIGN.md §8). Windows are identified by their start; the limiter picks them.
 */
export interface RateLimitRepository {
  /**
   * Counts one hit in `bucket`'s window starting at `windowStart` and returns that window's hits so far
   * (this one included) together with the hits of the window starting at `previousWindowStart`. One
   * atomic statement (an upsert that also reads the previous window), so concurrent processes never
   * lose a count and a request costs one round trip.
   */
  hit(bucket: string, windowStart: Date, previousWindowStart: Date): Promise<RateLimitCounts>;
  /**
   * The same two counts as {@link RateLimitRepository.hit}, without counting a hit (`current` may be 0).
   */
  read(bucket: string, windowStart: Date, previousWindowStart: Date): Promise<RateLimitCounts>;
  /** Deletes the windows of buckets starting with `bucketPrefix` that started before `cutoff`; returns how many. */
  deleteWindowsBefore(cutoff: Date, bucketPrefix: string): Promise<number>;
}
