import { lt, sql } from 'drizzle-orm';
import type { RateLimitRepository } from '@pay/core';
import type { Executor } from '../store.js';
import { rateLimitBuckets } from '../tables.js';
import { single } from './shared.js';

export function createRateLimitRepository(x: Executor): RateLimitRepository {
  return {
    async hit(bucket, windowStart, previousWindowStart) {
      // Spelled out in SQL: drizzle drops table qualifiers inside RETURNING, which would make the
      // subquery's columns mean the row being upserted.
      const previousHits = sql<number>`coalesce((
        select previous_window.hits from ${rateLimitBuckets} as previous_window
        where previous_window.bucket = ${bucket}
          and previous_window.window_start = ${previousWindowStart.toISOString()}::timestamptz
      ), 0)`.mapWith(Number);
      // One statement per request: the upsert counts the hit atomically (concurrent processes queue on
      // the row and each adds its own 1), and RETURNING reads the previous window with a subquery. That
      // subquery sees the statement's snapshot, which is all it needs: the previous window is another
      // row, and a hit racing into it now belongs to a request that counts against the current window.
      const rows = await x
        .db()
        .insert(rateLimitBuckets)
        .values({ bucket, windowStart, hits: 1 })
        .onConflictDoUpdate({
          target: [rateLimitBuckets.bucket, rateLimitBuckets.windowStart],
          set: { hits: sql`${rateLimitBuckets}.${sql.identifier('hits')} + 1` },
        })
        .returning({ current: rateLimitBuckets.hits, previous: previousHits });
      return single(rows, 'the rate-limit upsert');
    },

    async deleteWindowsBefore(cutoff) {
      const rows = await x
        .db()
        .delete(rateLimitBuckets)
        .where(lt(rateLimitBuckets.windowStart, cutoff))
        .returning({ bucket: rateLimitBuckets.bucket });
      return rows.length;
    },
  };
}
