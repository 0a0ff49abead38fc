import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, text } from 'drizzle-orm/pg-core';
import { pay, timestamptz } from './columns.js';

/**
 * Request counters of the rate limiter, one row per (bucket, fixed window). They live in PostgreSQL so
 * that every API process counts against the same limit (DESIGN.md §8): one upsert per request.
 */
export const rateLimitBuckets = pay.table(
  'rate_limit_buckets',
  {
    // What is limited, such as `api_key:key_…`.
    bucket: text().notNull(),
    windowStart: timestamptz().notNull(),
    hits: integer().notNull(),
  },
  (t) => [
    primaryKey({ name: 'rate_limit_buckets_pkey', columns: [t.bucket, t.windowStart] }),
    // Old windows are swept by age.
    index('rate_limit_buckets_window_start_idx').on(t.windowStart),
    check('rate_limit_buckets_hits_check', sql`${t.hits} > 0`),
  ],
);
